"""Small documents of our own, made by the tests: the same guide as PDF, DOCX and HTML, and broken ones."""

from __future__ import annotations

import io

TITLE = "Field Guide to Data Roles"
# (section heading, paragraphs): the PDF puts each section on a page of its own.
SECTIONS: list[tuple[str, list[str]]] = [
    ("Analytics engineer", [
        "Analytics engineers maintain the transformation models that finance teams reconcile every month.",
        "Most hiring managers ask for strong SQL, version control and the habit of writing tests for data.",
    ]),
    ("Forecasting specialist", [
        "Forecasting specialists tune demand models for warehouses before the holiday peak.",
        "They explain error bands to planners who have to order stock months ahead.",
    ]),
]


def guide_pdf() -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_title(TITLE)
    for heading, paragraphs in SECTIONS:
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 18)
        pdf.multi_cell(0, 10, heading)
        pdf.ln(4)
        pdf.set_font("Helvetica", "", 11)
        for para in paragraphs:
            pdf.multi_cell(0, 6, para)
            pdf.ln(3)
    return bytes(pdf.output())


def guide_docx() -> bytes:
    import docx

    d = docx.Document()
    d.add_paragraph(TITLE, style="Title")
    for heading, paragraphs in SECTIONS:
        d.add_heading(heading, level=1)
        for para in paragraphs:
            d.add_paragraph(para)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def scanned_pdf() -> bytes:
    """A page with only a picture on it (no text layer), like a scan."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 120, 160, style="F")
    return bytes(pdf.output())


def encrypted_pdf() -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_encryption(owner_password="owner-pass", user_password="user-pass")
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 6, "Salary bands for the data team are confidential this year.")
    return bytes(pdf.output())


def corrupt_docx() -> bytes:
    return guide_docx()[:700]  # a zip cut short


def page(title: str, body: str, *, nav: bool = True) -> bytes:
    """An HTML page with the usual furniture around ``body``: nav, cookie banner, share widget, comments, footer."""
    furniture_top = (
        '<div class="cookie-banner" id="cookie-consent">We use cookies to improve your visit. '
        "<button>Accept all cookies</button></div>"
        '<header><nav><ul><li><a href="/">Home page</a></li><li><a href="/about">About our team</a></li>'
        '<li><a href="/jobs">Open jobs board</a></li></ul></nav></header>'
    ) if nav else ""
    furniture_bottom = (
        '<div class="share-buttons">Share on Twitter · Share on LinkedIn</div>'
        '<section id="comments" class="comments"><h3>2 Comments</h3>'
        '<div class="comment"><p>Great article, thanks a lot for sharing it with us!</p></div></section>'
        "<footer><p>Copyright 2026 Careers Wiki. All rights reserved.</p>"
        '<a href="/privacy">Privacy policy</a></footer>'
    ) if nav else ""
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title} | Careers Wiki</title></head><body>"
        f"{furniture_top}<main><article>{body}</article></main>{furniture_bottom}</body></html>"
    ).encode()


NAV_ONLY = (
    b"<!doctype html><html><head><title>Index</title></head><body><header><nav><ul>"
    b'<li><a href="/">Home page</a></li><li><a href="/about">About our team</a></li>'
    b'<li><a href="/jobs">Open jobs board</a></li><li><a href="/contact">Contact the editors</a></li>'
    b"</ul></nav></header><footer>Copyright 2026</footer></body></html>"
)


# name -> (bytes maker, words the one-line skip reason must contain)
BAD_FILES = {
    "scan.pdf": (scanned_pdf, "no text layer (scanned?)"),
    "locked.pdf": (encrypted_pdf, "encrypted PDF"),
    "broken.docx": (corrupt_docx, "not a readable Word document"),
    "menu.html": (lambda: NAV_ONLY, "no main content"),
    "fake.pdf": (lambda: b"%PDF-1.4 not really", "not a readable PDF"),
}
