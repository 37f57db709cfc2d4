"""The alerts: the ``ChangeAlerts`` construct (change_alerts.py) and its typed rules (rules.py)."""
