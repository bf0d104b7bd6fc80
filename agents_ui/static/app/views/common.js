// Pieces every console uses.

import { computed, onBeforeUnmount, ref } from "vue";
import { useI18n } from "vue-i18n";
import { debounce, onOrderEvent, onReload } from "../live.js";
import { countdown, now, statusType } from "../store.js";

export const Logo = {
  props: { size: { type: Number, default: 32 } },
  template: `
  <svg class="logo" :width="size" :height="size" viewBox="0 0 48 48" aria-hidden="true">
    <rect x="2" y="2" width="44" height="44" rx="12" fill="#1d6fd8"/>
    <path d="M17.5 12.5c1.2-.6 2.6-.2 3.3.9l2.6 4.1c.6 1 .5 2.3-.3 3.1l-1.9 1.9c1.3 2.7 3.5 4.9 6.2 6.2l1.9-1.9c.8-.8 2.1-1 3.1-.3l4.1 2.6c1.1.7 1.5 2.1.9 3.3l-1.1 2.2c-.9 1.8-2.9 2.8-4.9 2.3-8.2-2-14.6-8.4-16.6-16.6-.5-2 .5-4 2.3-4.9z" fill="#fff"/>
    <circle cx="35" cy="13" r="4" fill="#5ee0a0"/>
  </svg>`,
};

export const StatusTag = {
  props: { status: String, kind: { type: String, default: "status" } },
  setup(props) {
    const { t } = useI18n();
    const type = computed(() => statusType(props.status));
    return { t, type };
  },
  template: `<el-tag :type="type" effect="light" size="small" disable-transitions>{{ t(kind + '.' + status) }}</el-tag>`,
};

// A deadline: time left or overdue, yellow in the last fifth of its span, red when passed.
export const Countdown = {
  props: { due: String, start: String, stopped: Boolean },
  setup(props) {
    const { t } = useI18n();
    const state = computed(() => (props.stopped ? null : countdown(props.due, props.start, now.value)));
    return { t, state };
  },
  template: `
  <span v-if="!due" class="muted">{{ t('app.none') }}</span>
  <span v-else-if="!state" class="muted">{{ $fmtTime(due) }}</span>
  <span v-else class="countdown" :class="'cd-' + state.level" :data-level="state.level">
    <span class="cd-text">{{ state.text }}</span>
    <span class="cd-at">{{ $fmtTime(due) }}</span>
  </span>`,
};

// Reload `fn` after bursts of live events (those `accept` lets through) and whenever the
// live connection says the view may have missed something.
export function useLiveReload(fn, { accept = () => true, wait = 250 } = {}) {
  const later = debounce(fn, wait);
  const offEvent = onOrderEvent((event, meta) => {
    if (accept(event, meta)) later();
  });
  const offReload = onReload(() => later());
  onBeforeUnmount(() => {
    offEvent();
    offReload();
    // A reload still waiting would ask after the view is gone (after a logout: a 401).
    later.cancel();
  });
}

const PHONE_WIDTH = "(max-width: 600px)";

// Whether the screen is phone-narrow, following rotation and resizing.
export function useNarrow() {
  const query = window.matchMedia(PHONE_WIDTH);
  const narrow = ref(query.matches);
  const follow = (event) => (narrow.value = event.matches);
  query.addEventListener("change", follow);
  onBeforeUnmount(() => query.removeEventListener("change", follow));
  return narrow;
}
