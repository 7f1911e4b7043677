"""My digits: the digits you drew (or uploaded), to test a model on and to teach it your handwriting."""

import numpy as np
import streamlit as st

from core.data.handwriting import (
    EXPORT_SHAPE,
    MIN_EVALUATE_DIGITS,
    DigitsFileError,
    count_per_digit,
    export_npz,
    import_npz,
    to_model_images,
)
from core.figures.described import describe_counts
from core.figures.handwriting import plot_digit_counts
from core.figures.images import to_thumbnails
from core.words import words_for
from ui import lab as labs
from ui import session
from ui.figures import show_chart
from ui.i18n import _, number
from ui.layout import start_page
from ui.my_digits import MyDigits, count_words, delete_digits, error_text, keep_digits, read_digits
from ui.session import DIGIT_PICK as PICK
from ui.session import DIGITS_GALLERY_PAGE
from ui.session import DIGITS_NOTE as NOTE
from ui.session import DIGITS_SHOWN as SHOWN
from ui.session import DIGITS_UPLOAD_NOTE as UPLOAD_NOTE
from ui.session import DIGITS_UPLOADS_DONE as UPLOADS_DONE
from ui.text import plain

PER_PAGE = 40
COLUMNS = 10
THUMBNAIL = 112  # px: 56x56 kept ink at 2x, a 28x28 model view at 4x
MODEL_VIEW = "digits_model_view"
UPLOAD = "digits_upload"
DOWNLOAD_NAME = "my-digits.npz"
DRAW_PAGE = "pages/draw.py"


def show_counts(digits: MyDigits) -> None:
    counts = count_per_digit(digits.labels)
    missing = [str(d) for d in range(10) if not counts[d]]
    c1, c2 = st.columns([1, 3], vertical_alignment="center")
    c1.metric(_("Your digits"), number(len(digits)))
    c1.caption(_("No {digits} yet.").format(digits=", ".join(missing)) if missing else _("Every digit is there."))
    show_chart(plot_digit_counts(counts), describe_counts(counts, [str(d) for d in range(10)], "digits"),
               key="digit_counts", container=c2, config={"displayModeBar": False})
    if len(digits) >= MIN_EVALUATE_DIGITS:
        st.caption(_("**Evaluate** can test a model on them (pick *My digits* in its sidebar); **Train** can "
                     "fine-tune a model to your handwriting (a few of each digit is best)."))
    else:
        st.caption(_("From {n} digits on, **Evaluate** can test a model on them; **Train** can fine-tune a model "
                     "to your handwriting (a few of each digit is best).").format(n=MIN_EVALUATE_DIGITS))


def show_grid(digits: MyDigits) -> None:
    """One digit's images, newest first, a page at a time, each with a Delete tick."""
    counts = count_per_digit(digits.labels)
    present = [d for d in range(10) if counts[d]]
    if SHOWN.get() not in present:
        SHOWN.set(present[0])
    shown_words, view_words = words_for("digits_shown"), words_for("digits_model_view")
    shown = st.segmented_control(_(shown_words.label), present, key=SHOWN, help=_(shown_words.help),
                                 format_func=lambda d: f"{d} · {counts[d]}")
    model_view = st.toggle(_(view_words.label), key=MODEL_VIEW, help=_(view_words.help))
    if shown is None:
        st.caption(_("Choose a digit to see its images."))
        return
    where = np.flatnonzero(digits.labels == shown)[::-1]  # newest first
    n_pages = -(-len(where) // PER_PAGE)
    page_key = DIGITS_GALLERY_PAGE.of(shown)
    if page_key.get() > n_pages:
        page_key.set(n_pages)
    page_words = words_for("digits_page")
    page = st.number_input(_(page_words.label), 1, n_pages, key=page_key,
                           help=_(page_words.help)) if n_pages > 1 else 1
    if n_pages > 1:
        st.caption(_("Page {page} of {pages}").format(page=page, pages=n_pages))
    picks = where[(page - 1) * PER_PAGE: page * PER_PAGE]
    images = to_model_images(digits.kept[picks], EXPORT_SHAPE) if model_view else digits.kept[picks]
    thumbnails = to_thumbnails(images, size=THUMBNAIL)
    ids = [int(digits.ids[i]) for i in picks]
    alt = _("Your handwritten {digit}, number {n} of {count}")
    pick = words_for("digits_pick")
    for start in range(0, len(ids), COLUMNS):
        for number_on_page, (column, digit_id, thumbnail) in enumerate(
                zip(st.columns(COLUMNS), ids[start:start + COLUMNS], thumbnails[start:start + COLUMNS]), start):
            nth = (page - 1) * PER_PAGE + number_on_page + 1
            column.image(thumbnail, width=84, alt=alt.format(digit=shown, n=nth, count=len(where)))
            column.checkbox(_(pick.label), key=PICK.of(digit_id), help=_(pick.help))
    ticked = [i for i in ids if PICK.of(i).get()]
    delete = words_for("digits_delete_ticked")
    if st.button(_(delete.label), help=_(delete.help), icon=":material/delete:", disabled=not ticked,
                 key="delete_ticked"):
        delete_and_rerun(ticked)
    if ticked:
        st.caption(_("{digits} ticked.").format(digits=count_words(len(ticked))))


def delete_and_rerun(ids: list[int] | None) -> None:
    error = delete_digits(ids)
    if error:
        st.error(error)
        return
    session.forget(*PICK.present_keys())
    NOTE.set(_("All your digits were deleted.") if ids is None
             else _("Deleted {digits}.").format(digits=count_words(len(ids))))
    st.rerun()


def show_tools(digits: MyDigits) -> None:
    """Download them as an .npz; delete them all (confirmed)."""
    c1, c2, _rest = st.columns([1, 1, 2])
    download = words_for("digits_download")
    c1.download_button(_(download.label), data=lambda: export_npz(digits.labels, digits.kept),
                       file_name=DOWNLOAD_NAME, mime="application/octet-stream", icon=":material/download:",
                       on_click="ignore", help=_(download.help))
    with c2.popover(_("Delete all…"), icon=":material/delete_forever:"):
        st.write(_("Delete all your {digits} for good?").format(digits=count_words(len(digits))))
        delete_all = words_for("digits_delete_all")
        if st.button(_(delete_all.label), type="primary", key="delete_all_digits", help=_(delete_all.help)):
            delete_and_rerun(None)


def add_upload(upload) -> None:
    """Add an uploaded .npz's digits (once per file), all or nothing; the outcome goes to UPLOAD_NOTE."""
    done = UPLOADS_DONE.ensure()
    if upload.file_id in done:
        return
    done.add(upload.file_id)
    name = plain(upload.name)  # a visitor's file name: shown as typed, never read as markup
    try:
        labels, kept = import_npz(upload.getvalue())
    except DigitsFileError as error:
        UPLOAD_NOTE.set((upload.file_id, True, _("Nothing was added from {file}: {problem}").format(
            file=name, problem=plain(error_text(error)))))
        return
    with st.spinner(_("Adding {digits}…").format(digits=count_words(len(labels)))):
        count, error = keep_digits(labels, kept)
    if error:
        UPLOAD_NOTE.set((upload.file_id, True, f"{name}: {plain(error)}"))
        return
    UPLOAD_NOTE.set((upload.file_id, False, _("Added {digits} from {file} · you have {count}").format(
        digits=count_words(len(labels)), file=name, count=count_words(count))))
    st.rerun()  # the counts and the grid above show them


def show_upload() -> None:
    st.subheader(_("Add digits from a file"))
    upload_words = words_for("digits_upload")
    upload = st.file_uploader(_(upload_words.label), type=["npz"], key=UPLOAD, help=_(upload_words.help))
    st.caption(_("For programmers: x holds (N, 28, 28) uint8 images, white on black, and y holds (N,) labels 0 to "
                 "9, as in Keras' mnist.npz."))
    if upload is not None:
        add_upload(upload)
    note = UPLOAD_NOTE.get()
    if note is not None and upload is not None and note[0] == upload.file_id:
        if note[1]:
            st.error(note[2])
        else:
            st.success(note[2])


start_page("My digits")
st.title(_("My digits"))
st.caption(_("The digits you added on the Draw page, or from a file. Kept in your lab: only people with its "
             "link can see them."))
digits, problem = read_digits()
if problem:
    st.warning(problem)
    st.stop()
if note := NOTE.pop():
    st.success(note)
if len(digits):
    show_counts(digits)
    show_tools(digits)
    st.subheader(_("Your digits"))
    show_grid(digits)
else:
    st.info(_("You have no digits yet. Draw one on the Draw page, press **Add to my digits**, and it shows here."),
            icon=":material/gesture:")
    st.page_link(DRAW_PAGE, label=_("Draw"), icon=":material/edit:", query_params=labs.lab_params())
show_upload()
