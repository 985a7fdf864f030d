"""Console pages, one module per area (inbox, applications, cards, employers, overview, caps).

Each module defines `router = APIRouter(prefix="/console/...", include_in_schema=False)` and
is added to `PAGE_ROUTERS` in api/console/__init__.py. Every route takes `CurrentStaff` (or
`require_roles(...)`), and every POST route also takes `CsrfChecked`; render pages with
`api.console.rendering.render`.
"""
