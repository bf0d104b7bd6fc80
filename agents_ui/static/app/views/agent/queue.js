// The callers waiting in the queue and how long each has waited; polled, and reloaded by
// the console when the agent takes a call.

import { onBeforeUnmount, onMounted, ref } from "vue";
import { useI18n } from "vue-i18n";
import { api } from "../../api.js";
import { fmtDuration, now } from "../../store.js";

// The live connection does not carry the queue: it is asked again this often.
const POLL_MS = 5000;

export default {
  setup(props, { expose }) {
    const { t } = useI18n();
    const queue = ref([]);

    async function load() {
      queue.value = (await api.get("/api/v1/calls/waiting")).items;
    }
    let timer = null;
    onMounted(async () => {
      timer = setInterval(load, POLL_MS);
      await load();
    });
    onBeforeUnmount(() => clearInterval(timer));
    expose({ load });

    const waited = (row) => fmtDuration(now.value - new Date(row.queued_at).getTime());
    return { t, queue, waited };
  },
  template: `
  <el-card shadow="never" class="panel">
    <template #header>
      <div class="panel-head"><span>{{ t('agent.queue') }}</span>
        <el-tag disable-transitions size="small" :type="queue.length ? 'warning' : 'info'" round>{{ queue.length }}</el-tag></div>
    </template>
    <div v-if="!queue.length" class="empty-line">{{ t('agent.queueEmpty') }}</div>
    <ul v-else class="plain-list">
      <li v-for="c in queue" :key="c.id" class="queue-row">
        <span class="mono">{{ c.from_phone }}</span>
        <span class="muted">{{ c.hotline_code }} · {{ t('agent.waited', { t: waited(c) }) }}</span>
      </li>
    </ul>
  </el-card>`,
};
