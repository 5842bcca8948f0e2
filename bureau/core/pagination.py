from rest_framework import pagination

# Pages of every list, numbered or by cursor: `?page=` from 1, `?page_size=` from
# 1 to MAX_PAGE_SIZE. Anything else is refused before any view runs, whichever
# paginator the view has (bureau/core/api_middleware.py), and the OpenAPI schema
# says so (bureau/core/schema.py).
MAX_PAGE_SIZE = 1000
MAX_PAGE = 10**9
PAGE_LIMITS = {"page": MAX_PAGE, "page_size": MAX_PAGE_SIZE}


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
