"""What the forkserver of `pipeline.warm` imports to warm itself up (`multiprocessing` preloads a server by
importing module names, so importing is the hook): it runs `warm.preload()`. Nothing else imports it."""

from pipeline import warm

warm.preload()
