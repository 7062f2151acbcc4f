// A gRPC client (@grpc/grpc-js) that makes one unary call and reports
// how it ended, as an application's callback sees it.
//
// usage: NODE_PATH=target/npm/node_modules node grpc-client.js [--keepalive MS] HOST:PORT [DEADLINE_MS]
// The service is written by hand, so no .proto file and no protobuf
// compiler is needed: `hangup.Echo/Say`, whose request and response are
// raw bytes (identity serializers). The channel is plaintext HTTP/2
// (`grpc.credentials.createInsecure()`, h2c with prior knowledge).
// --keepalive MS sets `grpc.keepalive_time_ms`, as an application that
// pings its server does; grpc-js then logs a server's `too_many_pings`
// GOAWAY on stderr.
// Output: "ok: 2 bytes" or
//         "error 14 UNAVAILABLE: Connection dropped" (code, its name in
//         grpc.status, and details, as `err.code` and `err.details`).
// Exit code: 0 when the call succeeded, 1 when it failed; 2 when
// @grpc/grpc-js cannot be loaded (scripts/test.sh installs it into
// target/npm).
'use strict';

let grpc;
try {
  grpc = require('@grpc/grpc-js');
} catch (err) {
  console.error(`grpc-client.js: ${err.message.split('\n')[0]}; scripts/test.sh installs it into target/npm (NODE_PATH=target/npm/node_modules)`);
  process.exit(2);
}

const args = process.argv.slice(2);
const options = {};
if (args[0] === '--keepalive') {
  options['grpc.keepalive_time_ms'] = Number(args[1]);
  args.splice(0, 2);
}
const [target, deadlineMs = '5000'] = args;

const identity = (bytes) => bytes;
const Echo = grpc.makeGenericClientConstructor(
  {
    say: {
      path: '/hangup.Echo/Say',
      requestStream: false,
      responseStream: false,
      requestSerialize: identity,
      requestDeserialize: identity,
      responseSerialize: identity,
      responseDeserialize: identity,
    },
  },
  'Echo',
);
const client = new Echo(target, grpc.credentials.createInsecure(), options);
const deadline = Date.now() + Number(deadlineMs);
client.say(Buffer.from('hi'), { deadline }, (err, response) => {
  if (err) {
    console.log(`error ${err.code} ${grpc.status[err.code]}: ${err.details}`);
  } else {
    console.log(`ok: ${response.length} bytes`);
  }
  client.close();
  process.exitCode = err ? 1 : 0;
});
