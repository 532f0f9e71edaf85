"""Custom actions for the Rasa action server (``rasa run actions --actions bot.actions``).

Actions talk to the app only over HTTP (see ``clients/app.py``); nothing here imports it.
"""
