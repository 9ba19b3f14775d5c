// productpage's HTML: the book page (after Istio's templates/productpage.html) and the index page.
// Everything is inline (styles and star icons) so the page renders offline.

export interface Product {
  id: number;
  title: string;
  descriptionHtml: string;
}

/** An upstream result as productpage holds it: the status and the JSON body (or the error object). */
export interface UpstreamResult {
  status: number;
  body: unknown;
}

export interface ServiceNode {
  name: string;
  endpoint: string;
  children: ServiceNode[];
}

export function escapeHtml(value: unknown): string {
  return String(value)
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

const STYLE = `
*{box-sizing:border-box}
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1f2937;background:#f3f4f6}
a{color:#2563eb}
nav{display:flex;align-items:center;justify-content:space-between;gap:1rem;padding:.75rem 1.5rem;background:#1f2937;color:#fff}
nav .brand{font-weight:700;font-size:1.125rem;color:#fff;text-decoration:none}
nav form{display:flex;gap:.5rem;margin:0}
nav input{padding:.35rem .5rem;border:0;border-radius:.25rem}
nav button,nav .button{padding:.35rem .8rem;border:0;border-radius:.25rem;background:#3b82f6;color:#fff;cursor:pointer;text-decoration:none;font:inherit}
main{max-width:64rem;margin:0 auto;padding:1.5rem}
h1{text-align:center;margin:.5rem 0 1rem}
.description{background:#fff;border-radius:.5rem;padding:1rem 1.25rem;line-height:1.5}
.columns{display:grid;grid-template-columns:repeat(auto-fit,minmax(20rem,1fr));gap:1.5rem;margin-top:1.5rem}
section.card{background:#fff;border-radius:.5rem;padding:1rem 1.25rem}
section.card h2{margin:0 0 .75rem;font-size:1.125rem;text-align:center;color:#1d4ed8}
table{width:100%;border-collapse:collapse}
th,td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid #e5e7eb}
blockquote{margin:0 0 1rem;padding:.5rem 1rem;border-left:4px solid #d1d5db}
blockquote p{margin:0 0 .25rem}
.reviewer{color:#6b7280;font-size:.875rem}
.stars{display:flex;gap:2px;margin-top:.25rem}
.star{width:1.25rem;height:1.25rem}
.text-black-500{color:#111827}
.text-red-500{color:#ef4444}
.rating-error{color:#dc2626;font-style:italic}
.error{color:#b91c1c}
.error h2{color:#b91c1c}
.served-by{margin-top:1rem;color:#4b5563;font-size:.875rem}
`;

const STAR_PATH = 'M12 2.5l2.94 5.96 6.56.95-4.75 4.63 1.12 6.54L12 17.5l-5.87 3.08 1.12-6.54L2.5 9.41l6.56-.95z';

function star(filled: boolean, color: string): string {
  const paint = filled ? 'fill="currentColor"' : 'fill="none" stroke="currentColor" stroke-width="1.5"';
  const kind = filled ? 'star-filled' : 'star-empty';
  return `<svg class="star ${kind} text-${escapeHtml(color)}-500" viewBox="0 0 24 24" aria-hidden="true"><path ${paint} d="${STAR_PATH}"/></svg>`;
}

function layout(title: string, user: string | undefined, body: string): string {
  const account = user
    ? `<span>Signed in as <b>${escapeHtml(user)}</b></span> <a class="button" href="/logout">Sign out</a>`
    : `<form method="post" action="/login"><input name="username" placeholder="User name" aria-label="User name" required>` +
      `<input name="passwd" type="password" placeholder="Password" aria-label="Password"><button type="submit">Sign in</button></form>`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<nav><a class="brand" href="/">BookInfo Sample</a><div>${account}</div></nav>
<main>
${body}
</main>
</body>
</html>
`;
}

function field(body: unknown, key: string): unknown {
  return typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[key] : undefined;
}

function errorBanner(what: string, body: unknown): string {
  const message = field(body, 'error');
  return `<section class="card error"><h2>Error fetching product ${what}!</h2>${message === undefined ? '' : `<p>${escapeHtml(message)}</p>`}</section>`;
}

function detailsSection(details: UpstreamResult): string {
  if (details.status !== 200) return errorBanner('details', details.body);
  const rows: Array<[string, string]> = [
    ['ISBN-10', 'ISBN-10'],
    ['Publisher', 'publisher'],
    ['Pages', 'pages'],
    ['Type', 'type'],
    ['Language', 'language'],
  ];
  const cells = rows.map(([label, key]) => `<tr><th>${label}</th><td>${escapeHtml(field(details.body, key) ?? '')}</td></tr>`).join('');
  return `<section class="card"><h2>Book Details</h2><table>${cells}</table></section>`;
}

function ratingHtml(rating: unknown): string {
  const stars = field(rating, 'stars');
  if (typeof stars === 'number' && stars > 0) {
    const color = String(field(rating, 'color') ?? 'black');
    const filled = Math.min(stars, 5);
    const icons = Array.from({ length: 5 }, (_, i) => star(i < filled, color)).join('');
    return `<div class="stars" title="${filled} of 5 stars">${icons}</div>`;
  }
  const error = field(rating, 'error');
  return error === undefined ? '' : `<p class="rating-error">${escapeHtml(error)}</p>`;
}

function reviewsSection(reviews: UpstreamResult): string {
  if (reviews.status !== 200) return errorBanner('reviews', reviews.body);
  const list = field(reviews.body, 'reviews');
  const items = (Array.isArray(list) ? list : [])
    .map(
      (review: unknown) =>
        `<blockquote><p>${escapeHtml(field(review, 'text') ?? '')}</p>` +
        `<span class="reviewer">${escapeHtml(field(review, 'reviewer') ?? '')}</span>${ratingHtml(field(review, 'rating'))}</blockquote>`,
    )
    .join('');
  const clustername = field(reviews.body, 'clustername');
  const cluster = clustername !== undefined && clustername !== 'null' ? ` on cluster <span class="clustername">${escapeHtml(clustername)}</span>` : '';
  return (
    `<section class="card"><h2>Book Reviews</h2>${items}` +
    `<p class="served-by">Reviews served by: <span class="podname">${escapeHtml(field(reviews.body, 'podname') ?? '')}</span>${cluster}</p></section>`
  );
}

export interface ProductPageModel {
  product: Product;
  details: UpstreamResult;
  reviews: UpstreamResult;
  user: string | undefined;
}

export function renderProductPage(model: ProductPageModel): string {
  const body =
    `<h1>${escapeHtml(model.product.title)}</h1>` +
    `<div class="description">${model.product.descriptionHtml}</div>` +
    `<div class="columns">${detailsSection(model.details)}${reviewsSection(model.reviews)}</div>`;
  return layout('Simple Bookstore App', model.user, body);
}

function serviceTable(node: ServiceNode): string {
  const children = node.children.length ? node.children.map(serviceTable).join('') : '';
  return (
    `<table><tr><th>name</th><td>${escapeHtml(node.name)}</td></tr><tr><th>endpoint</th><td>${escapeHtml(node.endpoint)}</td></tr>` +
    `<tr><th>children</th><td>${children}</td></tr></table>`
  );
}

export function renderIndexPage(tree: ServiceNode, user: string | undefined): string {
  const body =
    `<h1>Simple Bookstore App</h1>` +
    `<div class="description"><p>A small bookstore built from four services on the Weft mesh. productpage calls the services below:</p>` +
    `${serviceTable(tree)}` +
    `<p>Open the product page as <a href="/productpage?u=normal">a normal user</a> or <a href="/productpage?u=test">a test user</a>.</p></div>`;
  return layout('Simple Bookstore App', user, body);
}
