"""What Draw and Evaluate both show about a model: "Why this answer" maps, and "Inside the network".

Compute in core.analysis.explain.attribution, draw in core.figures.explain; this module only lays them out. The Draw
page leaves its preprocessed drawing under DRAW_IMAGE, so the Evaluate page can look inside the
network at it; open_inside_with_drawing takes the user there with the right tab and image chosen.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import streamlit as st

from core.analysis.explain.attribution import Explanation, explain
from core.analysis.explain.inside import feature_maps, first_conv_filters, first_layer_weights
from core.figures.explain import (
    framed,
    legend_html,
    render_attribution,
    render_feature_maps,
    render_filters,
    render_grid,
)
from core.i18n import N_
from ui.i18n import _, ngettext
from ui.session import DRAW_IMAGE, EVALUATE_TABS, INSIDE_SOURCE
from ui.text import plain

MAP_SIZE = 168  # px: a whole multiple of 28 and of 8, so every pixel is the same square (+ a 1 px frame)
MAX_UNITS = 64  # first-layer units shown, strongest first

INSIDE_TAB = N_("Inside the network")
TEST_IMAGE = N_("A test image")
YOUR_DRAWING = N_("Your drawing")


def why_title(class_name: str, predicted: bool) -> str:
    """'Why 9?' for the predicted class, 'Why not 1?' for any other."""
    return (_("Why {name}?") if predicted else _("Why not {name}?")).format(name=class_name)


def show_why(model, image: np.ndarray, target: int, class_names: Sequence[str], predicted: bool,
             key: str | None = None, with_sentence: bool = True) -> Explanation:
    """One class's map over the faint digit, captioned "Why 9?", over its one-sentence reading.

    with_sentence=False leaves the sentence (explanation.sentence) to the caller, to place it wider.
    """
    explanation = explain(model, image, target, class_names, remember=True)
    with st.container(key=key):
        st.image(framed(render_attribution(image, explanation.attributions, MAP_SIZE)),
                 caption=why_title(explanation.class_name, predicted), alt=map_alt(explanation))
        if with_sentence:
            st.markdown(_(explanation.sentence))
    return explanation


def map_alt(explanation: Explanation) -> str:
    """What a screen reader says for a "Why 9?" map: the map's colours in words, then its reading."""
    return _("A map over the digit of the pixels that count for {name} (orange) and against it (blue). "
             "{sentence}").format(name=explanation.class_name, sentence=_(explanation.sentence))


def show_legend(class_name: str | None = None) -> None:
    """The key to the maps' colours, in the maps' own colours (st.caption would fade the swatches)."""
    st.markdown('<span style="font-size:0.875rem">' + _(legend_html(class_name)) + "</span>", unsafe_allow_html=True)


def open_inside_with_drawing(image: np.ndarray) -> None:
    """Go to Evaluate's "Inside the network" tab with this drawing chosen (query parameters kept)."""
    DRAW_IMAGE.set(image)
    EVALUATE_TABS.set(INSIDE_TAB)
    INSIDE_SOURCE.set(YOUR_DRAWING)
    st.switch_page("pages/evaluate.py", query_params=dict(st.query_params))


def drawing_for(image_shape: tuple[int, int]) -> np.ndarray | None:
    """The Draw page's current drawing when it fits a model reading image_shape images, else None."""
    image = DRAW_IMAGE.get()
    if image is None or tuple(np.shape(image)) != tuple(image_shape):
        return None
    return image


def show_first_layer(model, class_names: Sequence[str]) -> bool:
    """First-layer weights as small images; False (and nothing shown) when the first layer is not Dense."""
    images, labels = first_layer_weights(model, limit=10**6, class_names=class_names)
    if len(images) == 0:
        return False
    if list(labels) == [str(c) for c in class_names]:  # softmax regression: one template per class
        st.markdown("**{}**".format(_("What each class looks for")))
        st.caption(_("This network is a single layer: each class's score weighs every pixel. Ink on orange "
                     "pixels raises the class's score, ink on blue pixels lowers it. One shared scale: "
                     "paler templates weigh the pixels less."))
        st.image(render_grid(images, labels, columns=5, tile=84, shared_scale=True),
                 alt=_("One square per class ({classes}): the pixels that raise its score in orange, those "
                       "that lower it in blue.").format(classes=", ".join(map(str, labels))))
        return True
    shown = min(MAX_UNITS, len(images))
    st.markdown("**{}**".format(_("What the first layer's units look for")))
    strongest = _("The {shown} strongest of its {count} units").format(shown=shown, count=len(images)) \
        if shown < len(images) else ngettext("All {count} unit", "All {count} units", len(images)).format(
            count=len(images))
    st.caption(_("Each square is one unit of the first hidden layer: its weight on every pixel. Ink on orange "
                 "pixels switches the unit on, ink on blue pixels holds it off. {strongest}, strongest first, "
                 "each on its own scale.").format(strongest=strongest))
    st.image(render_grid(images[:shown], labels[:shown], columns=8, tile=64),
             alt=_("{strongest} of the first hidden layer, each a square of its weights on the pixels: "
                   "orange switches it on, blue holds it off.").format(strongest=strongest))
    return True


def show_filters(model) -> bool:
    """The first convolution's filters; False (and nothing shown) for a network without convolutions."""
    filters = first_conv_filters(model)
    if len(filters) == 0:
        return False
    size = f"{filters.shape[1]}x{filters.shape[2]}"
    st.markdown("**{}**".format(ngettext("The first layer's {count} filter", "The first layer's {count} filters",
                                         len(filters)).format(count=len(filters))))
    st.caption(_("A convolution slides each {size} filter over the image: where the ink matches the orange "
                 "and avoids the blue, that filter's map lights up.").format(size=size))
    st.image(render_filters(filters),
             alt=ngettext("{count} filter of {size} pixels: orange where it looks for ink, blue where it looks "
                          "for none.", "{count} filters of {size} pixels each: orange where they look for ink, "
                          "blue where they look for none.", len(filters)).format(count=len(filters), size=size))
    return True


def show_feature_maps(model, image: np.ndarray, limit: int = 32) -> None:
    """Each convolution block's output for one image (H, W) in 0..1, block by block."""
    for name, channels in feature_maps(model, image):
        count, height, width = channels.shape
        for _block, grid in render_feature_maps([(name, channels)], limit=limit):
            st.markdown("**" + plain(name) + "**")  # an uploaded model's layer names: the file's text
            shown = _("the first {limit} of its {count} maps").format(limit=limit, count=count) \
                if count > limit else ngettext("its {count} map", "its {count} maps", count).format(count=count)
            st.caption(_("What this block passes on: {shown}, {height}x{width} each. Orange where its filters "
                         "found their pattern in the image, white where not; each map on its own scale.").format(
                shown=shown, height=height, width=width))
            st.image(grid, alt=_("The maps of {block}: {shown}, orange where a filter found its pattern.").format(
                block=plain(name), shown=shown))
