"""Seeing the gateway from outside: Prometheus metrics, structured logs, OpenTelemetry traces.

`context` holds what one request has done so far; the middleware, the MongoDB listeners and the
GraphQL extension add to it, and the access log and the metrics read it at the end.
"""
