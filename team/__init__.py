"""The Team page and the demo's removal: a manager's moves that span every app.

Deactivating someone moves their companies, referral sources and leads; removing the demo
deletes records in every app. Lower apps must not import higher ones, so this app sits on top
and orchestrates their services.
"""
