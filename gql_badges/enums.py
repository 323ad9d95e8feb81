"""The closed sets of the badge domain, each declared once as an enum.

The stored documents' shapes (`storage.collections`), the rules (`badges.rules`) and both APIs'
arguments and outputs read them. Nothing here imports the rest of the package, so every layer
can import it.
"""

from __future__ import annotations

from enum import StrEnum


class BadgeType(StrEnum):
    AVAILABLE_TO_ISSUE = "AVAILABLE_TO_ISSUE"
    AVAILABLE = "AVAILABLE"
    EARNED = "EARNED"
    EXPIRED = "EXPIRED"


class BadgeStatus(StrEnum):
    UPCOMING = "UPCOMING"
    LIVE = "LIVE"
    EXPIRED = "EXPIRED"


class EarnType(StrEnum):
    EARN = "EARN"
    ISSUE_EARN = "ISSUE_EARN"


class Owner(StrEnum):
    Loyalty = "Loyalty"
    Loyalty_Promotion = "Loyalty_Promotion"
    Referral_Campaigns = "Referral_Campaigns"
    Journeys = "Journeys"
    Audience_Campaigns = "Audience_Campaigns"
    Rewards_Catalog = "Rewards_Catalog"
    Goodwill_Module = "Goodwill_Module"
    Milestones = "Milestones"
    Historical_Import = "Historical_Import"


class ImageTag(StrEnum):
    EARNED = "EARNED"
    UN_EARNED = "UN_EARNED"
    IN_PROGRESS = "IN_PROGRESS"


class BadgeAction(StrEnum):
    ACTIVATED = "ACTIVATED"
    DEACTIVATED = "DEACTIVATED"
    DE_ACTIVATED = "DE_ACTIVATED"


class SortOrder(StrEnum):
    ASC = "ASC"
    DESC = "DESC"


class DateOperator(StrEnum):
    LESS_THAN = "LESS_THAN"
    GREATER_THAN = "GREATER_THAN"


class ManagementSortOn(StrEnum):
    EXPIRES_ON = "EXPIRES_ON"
    LAST_MODIFIED_DATE = "LAST_MODIFIED_DATE"
    LAST_ISSUED_DATE = "LAST_ISSUED_DATE"
    LAST_EXPIRED_BADGE = "LAST_EXPIRED_BADGE"
    LAST_EARNED_EVENT_DATE = "LAST_EARNED_EVENT_DATE"
    LAST_EARNED_ON_DATE = "LAST_EARNED_ON_DATE"


class CustomerSortOn(StrEnum):
    RANK = "RANK"
    LAST_EARNED_ON_DATE = "LAST_EARNED_ON_DATE"
    LAST_EARNED_EVENT_DATE = "LAST_EARNED_EVENT_DATE"


class IdentifierType(StrEnum):
    """How `{customerId}` is read: the numeric id, or the identifier the header names."""

    ID = "id"
    EMAIL = "email"
    MOBILE = "mobile"
    EXTERNAL_ID = "externalId"
    CARD_NUMBER = "cardNumber"


class ConstraintType(StrEnum):
    CUSTOMER_BADGE_FIXED_VALUE = "CUSTOMER_BADGE_FIXED_VALUE"
    BADGE_FIXED_VALUE = "BADGE_FIXED_VALUE"
    CUSTOMER_BADGE_ROLLING_WINDOW = "CUSTOMER_BADGE_ROLLING_WINDOW"
    BADGE_ROLLING_WINDOW = "BADGE_ROLLING_WINDOW"
    CUSTOMER_BADGE_FIXED_WINDOW = "CUSTOMER_BADGE_FIXED_WINDOW"
    BADGE_FIXED_WINDOW = "BADGE_FIXED_WINDOW"
    CUSTOMER_BADGE_NO_LIMIT = "CUSTOMER_BADGE_NO_LIMIT"
    BADGE_NO_LIMIT = "BADGE_NO_LIMIT"
