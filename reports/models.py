"""Queries, inquiries, credit reports, screening, watchlists and webhooks (to come)."""
