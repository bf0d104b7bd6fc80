// Live updates over socket.io (protocol: docs/console.md, "Event protocol").
//
// The connection is authenticated by the session cookie. On a reconnect the client sends
// the last sequence number it saw; the server replays what was missed, then says
// replay_done, or says resync when it cannot (the views then reload through REST).
// Events may arrive twice (a retried job, a replay overlapping live pushes) and out of
// order, so the client keeps a set of recent sequence numbers and drops repeats.

import { reactive } from "vue";
import { io } from "socket.io-client";

const RECENT = 5000;

export const live = reactive({
  state: "offline", // offline | connecting | connected | reconnecting
  lastSeq: 0,
  replayed: 0, // events received through replays since the page loaded
});

const seen = new Set();
const seenOrder = [];
const orderListeners = new Set();
const callListeners = new Set();
const agentStatusListeners = new Set();
const reloadListeners = new Set();
const sessionEndedListeners = new Set();
const noticeListeners = new Set();
const extraRooms = new Set();
let socket = null;
let everConnected = false;
let replayTimer = null;
// A server that neither replays nor asks for a resync within this time: reload anyway.
const REPLAY_WAIT_MS = 5000;

function remember(seq) {
  seen.add(seq);
  seenOrder.push(seq);
  if (seenOrder.length > RECENT) seen.delete(seenOrder.shift());
}

// fn(event, {replayed}) for every new order_event; returns an unsubscribe function.
export function onOrderEvent(fn) {
  orderListeners.add(fn);
  return () => orderListeners.delete(fn);
}

export function onCallEvent(fn) {
  callListeners.add(fn);
  return () => callListeners.delete(fn);
}

// fn({user_id, status, since}) when an agent's status changes: set by the agent, by a
// logout, or offline because no console stayed connected (the board and the agent hear it).
export function onAgentStatus(fn) {
  agentStatusListeners.add(fn);
  return () => agentStatusListeners.delete(fn);
}

// fn({notice_id, title}) when a notice (通报) is published to the user's unit.
export function onNoticeEvent(fn) {
  noticeListeners.add(fn);
  return () => noticeListeners.delete(fn);
}

export function onSessionEnded(fn) {
  sessionEndedListeners.add(fn);
  return () => sessionEndedListeners.delete(fn);
}

// fn(reason) when a view must reload what it shows through REST: the first connection
// (events made before it were not heard), a resync, or a reconnect without replay.
export function onReload(fn) {
  reloadListeners.add(fn);
  return () => reloadListeners.delete(fn);
}

function reload(reason) {
  reloadListeners.forEach((fn) => fn(reason));
}

let replaying = false;

function receive(event) {
  if (event == null || typeof event !== "object") return;
  const seq = Number(event.seq);
  if (Number.isFinite(seq) && seq > 0) {
    if (seen.has(seq)) return;
    remember(seq);
    if (seq > live.lastSeq) live.lastSeq = seq;
  }
  if (replaying) live.replayed += 1;
  const meta = { replayed: replaying };
  orderListeners.forEach((fn) => fn(event, meta));
}

export function connectLive() {
  if (socket) return;
  live.state = "connecting";
  socket = io({
    transports: ["websocket"],
    withCredentials: true,
    reconnectionDelay: 500,
    reconnectionDelayMax: 5000,
    // An attempt that neither opens nor fails (a network that drops packets) is given up
    // after this long and tried again, rather than after socket.io's default of 20 s.
    timeout: 5000,
    // Called on every (re)connection: a reconnect asks for what it missed.
    auth: (cb) => cb(everConnected && live.lastSeq > 0 ? { last_seq: live.lastSeq } : {}),
  });
  socket.on("connect", () => {
    const again = everConnected;
    everConnected = true;
    live.state = "connected";
    extraRooms.forEach((room) => socket.emit("join", { room }));
    if (!again || live.lastSeq === 0) {
      reload("connected");
    } else {
      replaying = true;
      clearTimeout(replayTimer);
      replayTimer = setTimeout(() => {
        if (replaying) {
          replaying = false;
          reload("no_replay");
        }
      }, REPLAY_WAIT_MS);
    }
  });
  socket.on("disconnect", () => {
    replaying = false;
    live.state = socket && socket.active ? "reconnecting" : "offline";
  });
  socket.io.on("reconnect_attempt", () => {
    live.state = "reconnecting";
  });
  socket.on("connect_error", () => {
    live.state = socket && socket.active ? "reconnecting" : "offline";
  });
  socket.on("order_event", receive);
  socket.on("replay_done", (data) => {
    replaying = false;
    clearTimeout(replayTimer);
    const seq = Number(data?.last_seq);
    if (Number.isFinite(seq) && seq > live.lastSeq) live.lastSeq = seq;
  });
  socket.on("resync", (data) => {
    replaying = false;
    clearTimeout(replayTimer);
    const seq = Number(data?.last_seq);
    if (Number.isFinite(seq) && seq > live.lastSeq) live.lastSeq = seq;
    reload(data?.reason || "resync");
  });
  socket.on("call_event", (event) => callListeners.forEach((fn) => fn(event)));
  socket.on("agent_status", (event) => agentStatusListeners.forEach((fn) => fn(event)));
  socket.on("notice_event", (event) => noticeListeners.forEach((fn) => fn(event)));
  // The session ended (logged out elsewhere, expired): the server disconnects for good.
  socket.on("session_ended", () => sessionEndedListeners.forEach((fn) => fn()));
}

export function disconnectLive() {
  if (!socket) return;
  socket.disconnect();
  socket = null;
  extraRooms.clear();
  everConnected = false;
  live.state = "offline";
}

// Rooms beyond the ones the server joins by role (an order's page): resolves to the ack.
export function joinRoom(room) {
  extraRooms.add(room);
  return new Promise((resolve) => {
    if (!socket) return resolve({ ok: false });
    socket.timeout(5000).emit("join", { room }, (err, ack) => resolve(err ? { ok: false } : ack));
  });
}

export function leaveRoom(room) {
  extraRooms.delete(room);
  if (socket) socket.emit("leave", { room });
}

// Calls fn at most once per `wait` ms, at the end of a burst (many events, one reload);
// `.cancel()` drops a call still waiting (a view that goes away must not load after it).
export function debounce(fn, wait = 300) {
  let timer = null;
  const later = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), wait);
  };
  later.cancel = () => clearTimeout(timer);
  return later;
}
