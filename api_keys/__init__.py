"""Scoped API keys for payroll systems and municipalities' own systems, reached as
`ledger.api_keys`: make one (shown once), list, revoke, and find the key a request presents.

What a key may see and do is decided in `api/` (api/access.py) from its `ApiPrincipal`;
`scope` answers the questions that needs (whose card, whose report) in one lookup each.
"""

from api_keys.principal import ApiKeyKind, ApiPrincipal
from api_keys.service import ApiKeyService, ApiKeyView, NewApiKey

__all__ = ["ApiKeyKind", "ApiKeyService", "ApiKeyView", "ApiPrincipal", "NewApiKey"]
