"""Translation: the `translate` stage (`stage`), the Argos packages it runs (`models`, `tokenizers`), and the
`tamis models` command that manages them (`commands`). Importing the package imports none of them, so the CLI
can list the command without loading the stage."""
