"""Incidents: one failure streak of one job in one channel — its card, its thread, and the messages they get.

outbox.py   "say this in the incident's thread" / "redraw its card" -> outbox rows (pure), used by the watcher
            (bot.watcher.compose) and by incident actions alike, so every message of an incident is delivered
            once and in order after its card
view.py     a stored incident -> the IncidentView of its card: the one builder every redraw goes through
"""
