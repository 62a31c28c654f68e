"""``/mlops/api/notebook_diffs`` answers a re-drawn figure's two images, as the panel draws them.

Real Jupyter server, real store, real matplotlib PNGs; the response model declares the image
fields, or the server would drop them on the way out.
"""

from __future__ import annotations

import base64
import io

from server_helpers import fetch_json, notebook_json


def plot(colour: str) -> bytes:
    """The PNG of a small real matplotlib line plot."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(2, 2), dpi=20)
    fig.add_axes((0, 0, 1, 1)).plot([0, 1, 2], [0, 2, 1], color=colour)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def figure_output(png: bytes) -> dict:
    return {"output_type": "display_data", "metadata": {},
            "data": {"image/png": base64.b64encode(png).decode(),
                     "text/plain": "<Figure size 40x40 with 1 Axes>"}}  # fmt: skip


async def test_the_diff_route_carries_the_old_and_the_new_image(jp_fetch, seed):
    # Given two versions of a notebook whose plotting cell drew another figure
    red, blue = plot("red"), plot("blue")
    a = seed.version("nb.ipynb", notebook_json("plot()", outputs={0: [figure_output(red)]}))
    b = seed.version("nb.ipynb", notebook_json("plot()", outputs={0: [figure_output(blue)]}))
    # When the panel asks for the diff
    diff = await fetch_json(
        jp_fetch, "mlops", "api", "notebook_diffs", params={"a": str(a), "b": str(b)}
    )
    # Then the changed output carries both images, each the bytes its notebook holds
    (cell,) = diff["cells"]
    (change,) = cell["output_changes"]
    assert (change["op"], change["parts"]) == ("changed", ["image/png"])
    (old,), (new,) = change["images_a"], change["images_b"]
    assert (old["mime"], old["encoding"], old["note"]) == ("image/png", "base64", None)
    assert base64.b64decode(old["data"]) == red and base64.b64decode(new["data"]) == blue
    assert new["size"] == len(blue)
