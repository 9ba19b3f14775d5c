// @weft/sdk: the public surface.
export { createMesh, Mesh, SDK_VERSION } from './mesh.js';
export type { MeshStatus, NackEvent, EndpointsEvent } from './mesh.js';
export type { MeshOptions } from './options.js';
export type { ServeOptions } from './server/serve.js';
export type { PeerIdentity } from './server/peer-identity.js';
export type { InboundRefusal, InboundMtlsMode } from './server/inbound-mtls.js';
export { WeftError, isWeftError, isWeftErrorCode } from './errors.js';
export type { WeftErrorCode, EnvoyLocalReply } from './errors.js';
export { registerBalancer, getBalancer } from './balancer/index.js';
export type { Picker, BalancerFactory, Endpoint } from './balancer/index.js';
export { compose } from './client/pipeline.js';
export type { Handler, Layer, OutboundRequest, OutboundResponse } from './client/pipeline.js';
export type { Target } from './client/target.js';
export type { RouteDecision } from './config/compiled.js';
export type { MeshRequestOptions, MeshResponseData } from './client/request-edge.js';
export type { MeshFetchInit, FetchErrorMode } from './client/fetch-edge.js';
export { RESPONSE_FLAGS_HEADER } from './client/fetch-response.js';
export type { OutboundTrafficPolicyMode } from './client/egress-stage.js';
