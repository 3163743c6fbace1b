"""The seed data, installed as the package ``bot.data`` (see bot/seed_data.py).

This folder is the editable source of the data the bot ships: pyproject.toml maps it to
``bot.data`` and ships every file in it inside the wheel. This file only makes it a
regular package, so ``importlib.resources`` finds it the same way installed or not.
"""
