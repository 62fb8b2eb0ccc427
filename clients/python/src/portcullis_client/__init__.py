"""A typed client of the Portcullis check API (docs/api.md, "Check API"): see ``Client``."""

from portcullis_client.client import Check, Client, Explanation, PortcullisError, Target

__all__ = ["Check", "Client", "Explanation", "PortcullisError", "Target"]
