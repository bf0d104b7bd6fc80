// The live feed: order events as they arrive, newest first, replayed ones marked. It
// listens from the moment the board opens, whichever tab is shown.

import { onBeforeUnmount, ref } from "vue";
import { useI18n } from "vue-i18n";
import { onOrderEvent } from "../../live.js";
import { actorLabel, eventLabel } from "../../store.js";

const FEED_SIZE = 60;

export default {
  setup() {
    const { t } = useI18n();
    const feed = ref([]);
    const offFeed = onOrderEvent((event, meta) => {
      const entry = { ...event, replayed: meta.replayed, key: `${event.seq}-${event.type}` };
      feed.value = [entry, ...feed.value].slice(0, FEED_SIZE);
    });
    onBeforeUnmount(offFeed);
    return { t, feed, eventLabel, actorLabel };
  },
  template: `
  <div v-if="!feed.length" class="empty-line">{{ t('board.feedEmpty') }}</div>
  <ul v-else class="feed" data-test="feed">
    <li v-for="e in feed" :key="e.key" :data-seq="e.seq" :data-type="e.type" :data-replayed="e.replayed ? 'true' : 'false'">
      <span class="muted small">{{ $fmtTime(e.at || e.created_at) }}</span>
      <el-tag disable-transitions size="small" effect="plain">{{ eventLabel(e.type, e.data) }}</el-tag>
      <a v-if="e.order_id" class="mono link" :href="'#/orders/' + e.order_id">{{ e.number }}</a>
      <span v-if="e.actor" class="muted small">{{ actorLabel(e.actor) }}</span>
      <StatusTag v-if="e.status" :status="e.status" />
    </li>
  </ul>`,
};
