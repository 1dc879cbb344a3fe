"""The data model; importing this package registers every table."""

from coalition.models.audit import AuditEntry
from coalition.models.campaigns import Campaign, SignatureCountShard, campaign_goals, campaign_legislators
from coalition.models.content import Belief, ContentBlock, Goal, PledgeAction
from coalition.models.legislature import Committee, DataLoad, District, Legislator, ZipDistrict, committee_members
from coalition.models.endorsements import Endorsement, Organization, PartnerSite
from coalition.models.mail import OutgoingMail
from coalition.models.pledges import Pledge, PledgeCountShard, pledge_action_choices
from coalition.models.signatures import Signature
from coalition.models.staff import StaffUser
from coalition.models.updates import MailRateLimit, MailSuppression, MailUpdate, SiteKey

__all__ = [
    "AuditEntry",
    "Belief",
    "Campaign",
    "Committee",
    "DataLoad",
    "District",
    "ContentBlock",
    "Endorsement",
    "Legislator",
    "Goal",
    "MailRateLimit",
    "MailSuppression",
    "MailUpdate",
    "OutgoingMail",
    "Organization",
    "PartnerSite",
    "Pledge",
    "PledgeAction",
    "PledgeCountShard",
    "Signature",
    "SignatureCountShard",
    "SiteKey",
    "StaffUser",
    "ZipDistrict",
    "campaign_goals",
    "campaign_legislators",
    "committee_members",
    "pledge_action_choices",
]
