"""The bot's custom NLU components (bot/config.yml). Importing this package also installs
the Rasa overrides the bot needs (bot/rasa_patches.py): every Rasa process that loads
the model imports it."""

from bot import rasa_patches  # noqa: F401 - installs the overrides on import
