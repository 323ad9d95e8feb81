"""gql-badges: an async GraphQL gateway over loyalty badge data in MongoDB."""

__version__ = "0.1.0"
