// SessionResponse serialization done once per update instead of once per session write: grpc-js
// normally serializes on every write, so the Session method weftd serves passes Buffers through.
import type * as grpc from '@grpc/grpc-js';
import { controlPlaneService, type SessionResponseMsg } from '@weft/api';

const baseMethod = controlPlaneService['Session']!;

/** The Session method with a serializer that writes pre-serialized SessionResponse bytes as they are. */
export const passThroughService: grpc.ServiceDefinition = {
  Session: {
    ...baseMethod,
    responseSerialize: (value: unknown) => (Buffer.isBuffer(value) ? value : baseMethod.responseSerialize(value)),
  },
};

export function serializeResponse(msg: SessionResponseMsg): Buffer {
  return baseMethod.responseSerialize(msg);
}

/** The inverse, for tests and tools that look at what weftd wrote. */
export function deserializeResponse(bytes: Buffer): SessionResponseMsg {
  return baseMethod.responseDeserialize(bytes) as SessionResponseMsg;
}
