"""GraphiQL, self-hosted: the IDE page a browser gets at `/graphql`, and the files it loads.

Nothing the page loads leaves the gateway (no CDN), so the IDE works on an air-gapped network
and from the installed wheel. `static/` comes from the npm packages via
`scripts/refresh-graphiql`.
"""

from gql_badges.graphiql.assets import graphiql_routes
from gql_badges.graphiql.page import graphiql_page

__all__ = ["graphiql_page", "graphiql_routes"]
