"""Share images: uploads checked before decoding and re-encoded without EXIF; the drawn card."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageFile

from coalition.extensions import db
from coalition.models import Campaign
from coalition.services import share_images
from coalition.services.share_images import ShareImageError, store_upload
from tests.conftest import login

GPS_IFD = 0x8825


def jpeg_with_location(size=(2400, 1600)) -> bytes:
    image = Image.new("RGB", size, (200, 30, 60))
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"  # Make
    exif[0x0112] = 6  # Orientation: turned 90 degrees
    exif.get_ifd(GPS_IFD)[2] = (40.0, 48.0, 30.0)  # GPSLatitude
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def png_of(size, mode="RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size).save(out, "PNG")
    return out.getvalue()


def test_a_jpeg_is_turned_upright_resized_and_stored_without_its_exif(app, tmp_path):
    tmp_path = tmp_path / "images"
    data = jpeg_with_location()
    assert b"CameraMaker" in data
    with app.app_context():
        name = store_upload(str(tmp_path), data)
    assert name.endswith(".jpg") and len(name) == 36
    stored = (tmp_path / name).read_bytes()
    assert b"CameraMaker" not in stored and b"Exif" not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format == "JPEG"
        # Orientation 6 applied (portrait now), then the longest side brought to 1,200.
        assert image.size == (800, 1200)
        assert dict(image.getexif()) == {}


def test_a_png_stays_a_png_and_the_same_content_gets_the_same_name(app, tmp_path):
    tmp_path = tmp_path / "images"
    with app.app_context():
        first = store_upload(str(tmp_path), png_of((300, 200)))
        again = store_upload(str(tmp_path), png_of((300, 200)))
    assert first == again and first.endswith(".png")
    assert sorted(p.name for p in tmp_path.iterdir()) == [first]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "Choose an image to upload."),
        (b"GIF89a" + b"\0" * 100, "This file is not a PNG or JPEG image."),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "This file is not a PNG or JPEG image."),
        (b"\x89PNG\r\n\x1a\n" + b"garbage" * 10, "This file is not a PNG or JPEG image."),
        (b"\0" * (5 * 1024 * 1024 + 1), "The image is larger than 5 MB. Please upload a smaller one."),
    ],
    ids=["empty", "gif", "svg", "broken-png", "over-5-mb"],
)
def test_what_is_not_a_real_png_or_jpeg_is_refused(app, tmp_path, data, message):
    tmp_path = tmp_path / "images"
    tmp_path.mkdir()
    with app.app_context(), pytest.raises(ShareImageError) as refused:
        store_upload(str(tmp_path), data)
    assert str(refused.value) == message
    assert list(tmp_path.iterdir()) == []


def test_a_gif_that_pillow_reads_is_still_refused(app, tmp_path):
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, "GIF")
    with app.app_context(), pytest.raises(ShareImageError, match="not a PNG or JPEG"):
        store_upload(str(tmp_path), out.getvalue())


@pytest.mark.parametrize("size", [(8000, 5001), (12000, 10000)], ids=["over-40-mp", "over-pillows-own-limit"])
def test_too_many_pixels_is_refused_from_the_header_before_decoding(app, tmp_path, monkeypatch, size):
    data = png_of(size, mode="1")  # a blank two-color image: small file, many pixels
    assert len(data) < 5 * 1024 * 1024

    def never(self):
        raise AssertionError("decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", never)
    with app.app_context(), pytest.raises(ShareImageError) as refused:
        store_upload(str(tmp_path), data)
    assert str(refused.value) == "The image has more than 40 megapixels. Please upload a smaller one."


def test_the_drawn_card_is_a_1200_by_630_png_drawn_again_only_after_its_lifetime(client, make_campaign, make_signature_row, monkeypatch):
    campaign = make_campaign(title="Campaña por las familias")
    make_signature_row(campaign)
    share_images.forget_cards()
    drawn = []
    real = share_images.draw_card
    monkeypatch.setattr(share_images, "draw_card", lambda *args: drawn.append(args) or real(*args))
    response = client.get(f"/campaigns/{campaign.slug}/share.png")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert response.headers["Cache-Control"] == "public, max-age=300"
    with Image.open(io.BytesIO(response.data)) as image:
        assert image.format == "PNG" and image.size == (1200, 630)
    assert drawn == [("Campaña por las familias", "Coalition for Women Prisoners", "1 signature")]
    # Another signature: the same card until the lifetime has passed.
    make_signature_row(campaign)
    assert client.get(f"/campaigns/{campaign.slug}/share.png").data == response.data
    assert len(drawn) == 1
    client.application.config["SHARE_CARD_SECONDS"] = 0
    fresh = client.get(f"/campaigns/{campaign.slug}/share.png")
    assert drawn[-1] == ("Campaña por las familias", "Coalition for Women Prisoners", "2 signatures")
    assert fresh.data != response.data
    spanish = client.get(f"/es/campaigns/{campaign.slug}/share.png")
    assert drawn[-1] == ("Campaña por las familias", "Coalición para Mujeres Presas", "2 firmas")
    assert spanish.status_code == 200
    share_images.forget_cards()


def test_the_campaign_page_names_the_card_or_the_uploaded_image(client, make_campaign, make_staff, tmp_path):
    client.application.config["SHARE_IMAGE_DIR"] = str(tmp_path)
    campaign = make_campaign(title="Keep families connected")
    html = client.get(f"/campaigns/{campaign.slug}").get_data(as_text=True)
    assert f'<meta property="og:image" content="http://localhost/campaigns/{campaign.slug}/share.png">' in html
    assert '<meta property="og:image:width" content="1200">' in html
    assert '<meta name="twitter:card" content="summary_large_image">' in html

    login(client, make_staff())
    no_alt = client.post(
        f"/staff/campaigns/{campaign.id}/share-image",
        data={"image": (io.BytesIO(jpeg_with_location()), "photo.jpg"), "alt": " "},
        content_type="multipart/form-data",
    )
    assert "Describe the image for people who cannot see it." in no_alt.get_data(as_text=True)
    not_image = client.post(
        f"/staff/campaigns/{campaign.id}/share-image",
        data={"image": (io.BytesIO(b"%PDF-1.7"), "file.jpg"), "alt": "A family"},
        content_type="multipart/form-data",
    )
    assert not_image.status_code == 200
    assert "This file is not a PNG or JPEG image." in not_image.get_data(as_text=True)
    assert db.session.get(Campaign, campaign.id).share_image is None

    saved = client.post(
        f"/staff/campaigns/{campaign.id}/share-image",
        data={"image": (io.BytesIO(jpeg_with_location()), "photo.jpg"), "alt": "A mother hugs her son", "alt_es": "Una madre abraza a su hijo"},
        content_type="multipart/form-data",
    )
    assert saved.status_code == 302
    db.session.expire_all()
    name = db.session.get(Campaign, campaign.id).share_image
    public = client.application.test_client()
    html = public.get(f"/campaigns/{campaign.slug}").get_data(as_text=True)
    assert f'<meta property="og:image" content="http://localhost/share-images/{name}">' in html
    assert '<meta property="og:image:alt" content="A mother hugs her son">' in html
    assert f'<img class="campaign-image" src="/share-images/{name}" alt="A mother hugs her son">' in html
    assert 'alt="Una madre abraza a su hijo"' in public.get(f"/es/campaigns/{campaign.slug}").get_data(as_text=True)
    image = public.get(f"/share-images/{name}")
    assert image.status_code == 200 and image.mimetype == "image/jpeg"
    assert "max-age=31536000" in image.headers["Cache-Control"] and "immutable" in image.headers["Cache-Control"]
    assert image.data == (tmp_path / name).read_bytes()
    image.close()
    assert public.get("/share-images/../config.py").status_code == 404
    assert public.get("/share-images/" + "0" * 32 + ".jpg").status_code == 404

    client.post(f"/staff/campaigns/{campaign.id}/share-image", data={"action": "remove"})
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).share_image is None
