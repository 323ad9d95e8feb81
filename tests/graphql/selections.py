"""Every field of a badge as GraphQL selections: the largest legitimate queries.

The limit tests check that these pass; the benchmark (`bench/run.py`) times them.
"""

from __future__ import annotations

CONSTRAINT_FIELDS = """__typename
  ... on CustomerBadgeFixedValueConstraint { constraintType maxEarnLimit }
  ... on BadgeFixedValueConstraint { constraintType maxEarnLimit }
  ... on CustomerBadgeRollingWindowConstraint { constraintType maxEarnForDays rollForDays
      maxEarnForWeeks rollForWeeks maxEarnForMonths rollForMonths }
  ... on BadgeRollingWindowConstraint { constraintType rollType rollValue maxEarnLimit }
  ... on CustomerBadgeFixedWindowConstraint { constraintType referenceId durationType
      refreshRate startDayOfTheWeek maxEarnLimit cycleStatus startDate endDate }
  ... on BadgeFixedWindowConstraint { constraintType referenceId durationType refreshRate
      startDayOfTheWeek maxEarnLimit cycleStatus startDate endDate }
  ... on CustomerBadgeNoLimitConstraint { constraintType }
  ... on BadgeNoLimitConstraint { constraintType }
  ... on UnknownConstraint { constraintType raw }"""
ALL_FIELDS = f"""badgeMetaId orgId name description startOn expiresOn
  images {{ name fileSvcHandle url tag }} tags badgeGroupId badgeGroupName
  group {{ id name rank }} badgeRank badgeStatus
  ownership {{ restrictedToOwners claims {{ ownerType referenceId isActive }} }}
  earnType customerConstraints {{ {CONSTRAINT_FIELDS} }}
  badgeConstraints {{ {CONSTRAINT_FIELDS} }} earnedCount lastEarnedOnDate lastEarnEventDate
  customFields active"""
MANAGEMENT_ITEM_FIELDS = """name description badgeMetaId badgeType badgeGroupId badgeGroupName
  group { id name rank } badgeRank createdOn lastUpdatedOn images { name fileSvcHandle url tag }
  badgeStatus lastEarnedOn startsOn expiresOn earnCount
  ownership { restrictedToOwners claims { ownerType referenceId isActive } }
  issueStatus active lastEarnedOnDate lastEarnEventDate"""
