def serve() -> None:
    """Start the server."""
