// New-dispatch alerts of the enterprise inbox: a short chime made with the Web Audio API
// (no sound file to serve) and a desktop notification when the user allowed them. One
// switch, remembered in this browser, turns both off. Permission is asked only from the
// button the user presses: a page that asks unprompted gets refused by browsers and
// people alike.

import { reactive } from "vue";

const STORAGE_KEY = "hotline.unitAlerts";

function remembered() {
  try {
    return localStorage.getItem(STORAGE_KEY) !== "off";
  } catch {
    return true; // storage refused (private mode): alerts stay on, as by default
  }
}

const supported = typeof window !== "undefined" && "Notification" in window;

export const alerts = reactive({
  on: remembered(),
  // "default" (not asked yet), "granted", "denied", or "unsupported"
  permission: supported ? Notification.permission : "unsupported",
});

export function setAlerts(on) {
  alerts.on = on;
  try {
    localStorage.setItem(STORAGE_KEY, on ? "on" : "off");
  } catch {
    // Not remembered in this browser; the switch still works for the page.
  }
}

export async function askPermission() {
  if (!supported) return;
  alerts.permission = await Notification.requestPermission();
}

// Browsers start audio only after the user has touched the page; the context is made (or
// woken) on the first touch or key, so that a dispatch arriving later can be heard.
let audio = null;
function wakeAudio() {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return;
  audio = audio || new Context();
  if (audio.state === "suspended") audio.resume().catch(() => {});
}
if (typeof window !== "undefined") {
  window.addEventListener("pointerdown", wakeAudio, { capture: true, passive: true });
  window.addEventListener("keydown", wakeAudio, { capture: true, passive: true });
}

// Two rising tones, a quarter of a second in all.
function chime() {
  wakeAudio();
  if (!audio) return;
  const start = audio.currentTime + 0.01;
  [880, 1320].forEach((frequency, i) => {
    const at = start + i * 0.13;
    const tone = audio.createOscillator();
    const gain = audio.createGain();
    tone.type = "sine";
    tone.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, at);
    gain.gain.exponentialRampToValueAtTime(0.3, at + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.12);
    tone.connect(gain).connect(audio.destination);
    tone.start(at);
    tone.stop(at + 0.13);
  });
}

// A new dispatch arrived: chime and, if allowed, a desktop notification that brings the
// inbox forward when clicked.
export function announce(title, body) {
  if (!alerts.on) return;
  chime();
  if (!supported || Notification.permission !== "granted") return;
  try {
    const note = new Notification(title, { body, tag: "hotline-dispatch" });
    note.onclick = () => {
      window.focus();
      note.close();
    };
  } catch {
    // Android's Chrome allows notifications only from a service worker; the chime and
    // the in-page message remain.
  }
}
