"""The hostile-document corpus: documents that cost a sender little and a naive server a lot.

Each entry builds its document and names what the gateway must answer: the refusal's limit (an
`extensions.limit` of QUERY_TOO_COMPLEX), or another error message. `bench/hostile.py` records
the time and memory each costs; the tests assert they are refused, and within generous bounds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gql_badges.demo.handles import SWATI

CUSTOMER = f'{{id: "{SWATI.key}"}}'
ITEM_FIELDS = """badgeMetaId name description startOn expiresOn tags customFields active
  images { name fileSvcHandle url tag } customerConstraints { __typename }
  ownership { restrictedToOwners claims { ownerType referenceId isActive } }"""


# Thirty aliases of a page (within the alias limit), each needing the caller: with a wrong
# password, thirty chances to make the gateway verify it.
PAGE_ALIASES = (
    "{ "
    + " ".join(
        f"a{n}: customerBadges(customer: {CUSTOMER}) {{ pagination {{ total }} }}"
        for n in range(30)
    )
    + " }"
)


def doubling_fragments(n: int) -> str:
    """`F_i` spreads `F_(i-1)` twice: 2ⁿ fields once expanded, from about 40 bytes a level."""
    fragments = ["fragment F0 on Query { __typename }"]
    fragments += [f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, n + 1)]
    return f"{{ ...F{n} }} " + " ".join(fragments)


def mutual_fragments(n: int) -> str:
    """Every fragment spreads all the others: cycles everywhere."""
    fragments = [
        f"fragment F{i} on Query {{ " + " ".join(f"...F{j}" for j in range(n) if j != i) + " }"
        for i in range(n)
    ]
    return "{ ...F0 } " + " ".join(fragments)


def aliases(n: int) -> str:
    return "{ " + " ".join(f"a{i}: __typename" for i in range(n)) + " }"


def repeated_field(n: int) -> str:
    """One response name n times, each with other arguments: graphql-core compares every pair."""
    roots = (
        f'customerBadges(customer: {{id: "{i}"}}) {{ pagination {{ page }} }}' for i in range(n)
    )
    return "{ " + " ".join(roots) + " }"


def directives(n: int) -> str:
    return "{ __typename " + " ".join("@include(if: true)" for _ in range(n)) + " }"


def nested(n: int) -> str:
    return "{ " + "a { " * n + "b" + " }" * (n + 1)


def of_type_chain(n: int) -> str:
    chain = "name"
    for _ in range(n):
        chain = f"ofType {{ {chain} }}"
    return f"{{ __schema {{ types {{ fields {{ type {{ {chain} }} }} }} }} }}"


def type_recursion(n: int) -> str:
    chain = "name"
    for _ in range(n):
        chain = f"fields {{ type {{ {chain} }} }}"
    return f'{{ __type(name: "Query") {{ {chain} }} }}'


def wide_pages(n: int) -> str:
    """n aliases of the largest page, every field of every item."""
    roots = " ".join(
        f"p{i}: customerBadges(customer: {CUSTOMER}, limit: 100) {{ badges {{ ...All }} }}"
        for i in range(n)
    )
    return f"{{ {roots} }} fragment All on Badge {{ {ITEM_FIELDS} }}"


def both_roots_at_the_largest_page() -> str:
    return f"""{{
      customerBadges(customer: {CUSTOMER}, limit: 100) {{ badges {{ ...All }} }}
      badgeManagement(customer: {CUSTOMER}, size: 100) {{
        customerBadges {{ name images {{ url }} }} }}
    }} fragment All on Badge {{ {ITEM_FIELDS} }}"""


@dataclass(frozen=True)
class Hostile:
    name: str
    build: Callable[[], str]
    limit: str | None = None  # the QUERY_TOO_COMPLEX limit it must hit
    message: str | None = None  # or a part of the error message it must get instead
    variables: dict[str, object] | None = None


CORPUS: tuple[Hostile, ...] = (
    Hostile("doubling fragments, 22 levels (897 bytes)", lambda: doubling_fragments(22), "maxCost"),
    Hostile("doubling fragments, 60 levels", lambda: doubling_fragments(60), "maxCost"),
    Hostile("11 fragments spreading each other", lambda: mutual_fragments(11), message="itself"),
    Hostile("30 fragments spreading each other", lambda: mutual_fragments(30), message="itself"),
    Hostile("40 fragments spreading each other", lambda: mutual_fragments(40), "maxTokens"),
    Hostile("700 aliases", lambda: aliases(700), "maxAliases"),
    Hostile("1,000 aliases", lambda: aliases(1000), "maxTokens"),
    Hostile("one field 100 times", lambda: repeated_field(100), "maxFieldRepeats"),
    Hostile("one field 200 times", lambda: repeated_field(200), "maxTokens"),
    Hostile("1,200 fields", lambda: "{ " + "__typename " * 1200 + "}", "maxFields"),
    Hostile("3,000 fields", lambda: "{ " + "__typename " * 3000 + "}", "maxTokens"),
    Hostile("directive flood", lambda: directives(300), "maxDirectives"),
    Hostile("deep nesting, 300 levels", lambda: nested(300), "maxDepth"),
    Hostile("deep nesting, 2,000 levels", lambda: nested(2000), "maxDepth"),
    Hostile("40-deep ofType chain", lambda: of_type_chain(40), "maxIntrospectionDepth"),
    Hostile("__type recursion", lambda: type_recursion(6), "maxCost"),
    Hostile("twenty largest pages through aliases", lambda: wide_pages(20), "maxCost"),
    Hostile(
        "both root fields at the largest page",
        both_roots_at_the_largest_page,
        message="Unauthorized",  # within every limit: it runs, and needs credentials
    ),
    Hostile("6,000 tokens", lambda: "{ " + "__typename " * 6000 + "}", "maxTokens"),
    Hostile(
        "a huge variables object",
        lambda: "query($c: CustomerRef!) { customerBadges(customer: $c) { badges { name } } }",
        message="Unauthorized",  # the document is fine; the variables cost only their parse
        variables={"c": {"id": "1"}, **{f"v{i}": [i] * 10 for i in range(3_000)}},
    ),
)
