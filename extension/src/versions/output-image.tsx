/**
 * An output image of a notebook diff, drawn from a data: URL the panel builds itself (the
 * server sends the image as typed fields, never as markup).
 */
import React from 'react';

import type { MlopsAPI } from '../api';

/** MIME types an <img> may show; anything else the server sends is not drawn. */
const IMAGE_TYPES = new Set([
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/svg+xml'
]);

/**
 * The data: URL of an output image, or null when there is nothing to draw. An SVG is
 * base64-encoded here and shown through <img>, never inserted as markup: an image document
 * runs no script and loads nothing.
 */
export function imageSource(image: MlopsAPI.IOutputImage): string | null {
  if (image.data === null || !IMAGE_TYPES.has(image.mime)) {
    return null;
  }
  let base64 = image.data;
  if (image.encoding === 'text') {
    const bytes = new TextEncoder().encode(image.data);
    let binary = '';
    for (let i = 0; i < bytes.length; i += 0x8000) {
      binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    }
    base64 = btoa(binary);
  } else if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64)) {
    return null; // not base64: it could break out of the URL
  }
  return `data:${image.mime};base64,${base64}`;
}

/** One image with its caption (side and type), or the note saying why it is not shown. */
export function OutputImage(props: {
  image: MlopsAPI.IOutputImage;
  side: string;
}): JSX.Element {
  const { image, side } = props;
  const src = imageSource(image);
  return (
    <figure className="jp-mlops-diff-image">
      {src !== null ? (
        <img src={src} alt={`${image.mime} ${side}`} />
      ) : (
        <div className="jp-mlops-muted jp-mlops-diff-image-note">
          [{image.mime}] {image.note ?? 'not shown'}
        </div>
      )}
      <figcaption className="jp-mlops-muted">
        {side} · {image.mime}
      </figcaption>
    </figure>
  );
}
