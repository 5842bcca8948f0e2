from celery import shared_task
from django.db import connection


@shared_task(name="bureau.core.tasks.database_roundtrip")
def database_roundtrip(token: str) -> dict:
    """Prove a worker reaches the same database: echo a token and a row count."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM members_member")
        (members,) = cursor.fetchone()
    return {"token": token, "members": members}
