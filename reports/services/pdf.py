"""HTML report → PDF with WeasyPrint (CJK text needs a CJK font installed, e.g.
Debian's fonts-noto-cjk; see the README)."""


def render_pdf(html: str, *, base_url: str) -> bytes:
    from weasyprint import HTML  # heavy import, only when a PDF is asked for

    return HTML(string=html, base_url=base_url).write_pdf()
