/**
 * Proximity.AppIcon: an app's icon that needs nothing from the internet. The node's page may
 * be offline, and a remote icon URL (community-scripts' logos are) would also tell a third
 * party who opens it; so only an image data URI from the manifest is shown as it is, and
 * every other app gets a letter tile: the first letter of its name on a colour derived from
 * its id (the same app has the same colour in the Catalog and the Apps views, everywhere).
 */

/** FNV-1a over the id: a stable, well-spread hue for short slugs. */
function hue(id: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < id.length; index++) {
    hash ^= id.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % 360;
}

const DATA_IMAGE = /^data:image\/(png|jpeg|gif|webp|svg\+xml);base64,[A-Za-z0-9+/]+={0,2}$/;

Ext.define('Proximity.AppIcon', {
  singleton: true,

  /** The tile's colour (white text on it reads well at this lightness for every hue). */
  color(id: string): string {
    return `hsl(${hue(id)}, 55%, 38%)`;
  },

  letter(name: string): string {
    const first = /[\p{L}\p{N}]/u.exec(name)?.[0];
    return first ? first.toLocaleUpperCase() : '?';
  },

  /** HTML for the icon of app `id` named `name`: the data URI image, or its letter tile. */
  html(app: { id: string; name: string; icon?: string | null | undefined }, size = 24): string {
    const encode = Proximity.Utils.encode;
    const name = encode(app.name);
    if (app.icon && DATA_IMAGE.test(app.icon))
      return `<img class="proximity-app-icon" src="${encode(app.icon)}" alt="${name}" title="${name}" width="${size}" height="${size}" style="object-fit:contain;vertical-align:middle">`;
    const style = [
      'display:inline-block',
      `width:${size}px`,
      `height:${size}px`,
      `line-height:${size}px`,
      'border-radius:4px',
      'text-align:center',
      'font-weight:bold',
      `font-size:${Math.round(size * 0.55)}px`,
      'color:#fff',
      `background:${Proximity.AppIcon.color(app.id)}`,
      'vertical-align:middle',
    ].join(';');
    return `<span class="proximity-app-tile" role="img" aria-label="${name}" title="${name}" data-app="${encode(app.id)}" style="${style}">${encode(Proximity.AppIcon.letter(app.name))}</span>`;
  },
});

export {};
