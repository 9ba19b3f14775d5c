// Istio's Bookinfo on the Weft SDK: each service as a pure request handler and as a mesh workload.
export { createDetailsHandler, startDetails, bookDetails } from './details.js';
export { createRatingsHandler, startRatings, DEFAULT_RATINGS, type RatingsHandlerOptions } from './ratings.js';
export {
  createReviewsHandler,
  startReviews,
  REVIEWS_VERSIONS,
  RATINGS_UNAVAILABLE,
  ratingsTimeoutMs,
  type ReviewsVersion,
  type ReviewsHandlerOptions,
  type StartReviewsOptions,
} from './reviews.js';
export {
  createProductPageHandler,
  startProductPage,
  PRODUCTS,
  PRODUCT_DETAILS_UNAVAILABLE,
  PRODUCT_REVIEWS_UNAVAILABLE,
  PRODUCT_RATINGS_UNAVAILABLE,
  type ProductPageHandlerOptions,
  type StartProductPageOptions,
} from './productpage.js';
export { FORWARDED_HEADERS, PRODUCTPAGE_COPIED_HEADERS } from './headers.js';
export { BOOKINFO_NAMESPACE, SERVICE_PORT, missingTokenMessage, type RunningWorkload, type StartOptions } from './workload-runtime.js';
export type { FetchLike } from './upstream.js';
export {
  waitForInstances,
  waitForConfig,
  configRevision,
  listServices,
  listSessions,
  pollUntil,
  instancesByWorkload,
  createJoinToken,
  resolveAdminTarget,
  type AdminTarget,
} from './mesh-admin.js';
export { driveProductPage, tallyReviewsApi, servedVersion, logIn, type TrafficResult, type ReviewsTally } from './demo/traffic.js';
export { weftctlApply, WEFTCTL_BIN, NETWORKING_DIR } from './weftctl.js';
