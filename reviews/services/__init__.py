"""Review services (each change and its audit event in one transaction):

- ``policies``: save_policy
- ``campaigns``: open_due_campaigns, open_campaign, send_reminders, close_overdue, close_campaign, cancel_campaign
- ``decisions``: decide, bulk_decide, reassign
- ``applying``: apply_campaign, apply_item
"""

from reviews.services.errors import ReviewRefused

__all__ = ["ReviewRefused"]
