// Channel credentials that keep the control-plane connection from holding the process open.
//
// grpc-js refs an HTTP/2 session for as long as a call is active, and the weftd session is a call
// that never ends: a short script that created a mesh would never exit (global fetch exits at once).
// The session is background work, like Istio's agent should have been for jobs (istio/istio#11659):
// the app's own servers, requests and timers decide when the process is done. grpc-js connects
// every socket through the channel credentials' connector, so wrapping it is the one place that
// sees each socket; its ref() is made a no-op so that grpc-js's session.ref() cannot undo the unref.
import * as grpc from '@grpc/grpc-js';
import type { Socket } from 'node:net';

type CreateConnector = grpc.ChannelCredentials['_createSecureConnector'];

export class UnrefChannelCredentials extends grpc.ChannelCredentials {
  constructor(private readonly inner: grpc.ChannelCredentials) {
    super();
  }

  override compose(callCredentials: grpc.CallCredentials): grpc.ChannelCredentials {
    return new UnrefChannelCredentials(this.inner.compose(callCredentials));
  }

  _isSecure(): boolean {
    return this.inner._isSecure();
  }

  _equals(other: grpc.ChannelCredentials): boolean {
    return other instanceof UnrefChannelCredentials && this.inner._equals(other.inner);
  }

  _createSecureConnector(...args: Parameters<CreateConnector>): ReturnType<CreateConnector> {
    const connector = this.inner._createSecureConnector(...args);
    return {
      connect: async (socket) => {
        const result = await connector.connect(socket);
        unrefForGood(result.socket);
        if (result.socket !== socket) unrefForGood(socket);
        return result;
      },
      waitForReady: () => connector.waitForReady(),
      getCallCredentials: () => connector.getCallCredentials(),
      destroy: () => connector.destroy(),
    };
  }
}

function unrefForGood(socket: Socket): void {
  socket.unref();
  socket.ref = () => socket;
}
