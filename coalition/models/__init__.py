"""The data model; importing this package registers every table."""

from coalition.models.audit import AuditEntry
from coalition.models.campaigns import Campaign, SignatureCountShard, campaign_goals
from coalition.models.content import Belief, ContentBlock, Goal, PledgeAction
from coalition.models.endorsements import Endorsement, Organization
from coalition.models.mail import OutgoingMail
from coalition.models.pledges import Pledge, PledgeCountShard, pledge_action_choices
from coalition.models.signatures import Signature
from coalition.models.staff import StaffUser
from coalition.models.updates import MailRateLimit, MailSuppression, MailUpdate, SiteKey

__all__ = [
    "AuditEntry",
    "Belief",
    "Campaign",
    "ContentBlock",
    "Endorsement",
    "Goal",
    "MailRateLimit",
    "MailSuppression",
    "MailUpdate",
    "OutgoingMail",
    "Organization",
    "Pledge",
    "PledgeAction",
    "PledgeCountShard",
    "Signature",
    "SignatureCountShard",
    "SiteKey",
    "StaffUser",
    "campaign_goals",
    "pledge_action_choices",
]
