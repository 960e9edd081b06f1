"""Built-in stages, by name, in default pipeline order. Imports nothing: `pipeline.registry` imports a
stage when it is used.

The name is the YAML name, the registry name and the module stem.
"""

BUILTIN: dict[str, str] = {
    "decode": "stages.decode:Decode",
    "extract": "stages.extract:Extract",
    "repair": "stages.repair:Repair",
    "boilerplate": "stages.boilerplate:Boilerplate",
    "normalise": "stages.normalise:Normalise",
    "dedupe": "stages.dedupe:Dedupe",
    "languages": "stages.languages:Languages",
    "translate": "stages.translate:Translate",
}
