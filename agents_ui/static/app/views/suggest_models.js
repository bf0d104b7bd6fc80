// The service-item classifier for supervisors (#/suggest): its versions with their
// training sets and figures (each against the version it was compared with, on the same
// held-back lines), the promoted version's figures by item and its confusions, the
// training runs, and retraining on demand, followed until the run ends.

import { computed, onBeforeUnmount, onMounted, ref } from "vue";
import { ElMessage } from "element-plus";
import { useI18n } from "vue-i18n";
import { api } from "../api.js";
import { errorText, itemName } from "../store.js";

// A run still to do; the page asks about it again this often until it ends.
const WAITING = ["pending", "enqueued"];
const POLL_MS = 2000;
const STATE_TAGS = { promoted: "success", retired: "info", rejected: "warning" };
const RUN_TAGS = { pending: "info", enqueued: "warning", done: "success", failed: "danger" };

const percent = (share) => (share === null || share === undefined ? "—" : `${(share * 100).toFixed(1)}%`);

export default {
  setup() {
    const { t } = useI18n();
    const models = ref([]);
    const trainings = ref([]);
    const loaded = ref(false);
    const run = ref(null); // the run this page asked for (or found waiting), followed
    const asking = ref(false);
    let timer = null;

    async function load() {
      const data = await api.get("/api/v1/suggest/models");
      models.value = data.models;
      trainings.value = data.trainings;
      loaded.value = true;
    }

    function follow(found) {
      run.value = found;
      clearTimeout(timer);
      if (WAITING.includes(found.state)) {
        timer = setTimeout(poll, POLL_MS);
      }
    }

    async function poll() {
      try {
        const now = await api.get(`/api/v1/suggest/trainings/${run.value.id}`);
        follow(now);
        if (now.state === "done") {
          const model = await loadAndFind(now.model_id);
          ElMessage.success(t("suggestUi.runDone", { version: now.model_id, state: model ? t("suggestUi.states." + model.state) : "" }));
        } else if (now.state === "failed") {
          await load();
          ElMessage.error(t("suggestUi.runFailed", { error: now.error || "" }));
        }
      } catch (e) {
        // A blip: ask again later rather than lose the run.
        timer = setTimeout(poll, POLL_MS);
      }
    }

    async function loadAndFind(modelId) {
      await load();
      return models.value.find((m) => m.id === modelId) || null;
    }

    async function retrain() {
      asking.value = true;
      try {
        follow(await api.post("/api/v1/suggest/trainings"));
        await load();
      } catch (e) {
        ElMessage.error(errorText(e));
      } finally {
        asking.value = false;
      }
    }

    onMounted(async () => {
      await load();
      // A supervisor's run already waiting (from another console, or before a reload).
      const waiting = trainings.value.find((r) => r.reason === "requested" && WAITING.includes(r.state));
      if (waiting) follow(waiting);
    });
    onBeforeUnmount(() => clearTimeout(timer));

    const promoted = computed(() => models.value.find((m) => m.state === "promoted") || null);
    // Weakest items first: those are what more corpus lines or corrections should help.
    const perItem = computed(() =>
      Object.entries(promoted.value?.per_item || {})
        .map(([code, f]) => ({ code, ...f }))
        .sort((a, b) => a.top1 - b.top1 || a.top3 - b.top3 || a.code.localeCompare(b.code)),
    );
    const waiting = computed(() => run.value && WAITING.includes(run.value.state));
    const versus = (m, key) => {
      const base = m[`baseline_${key}`];
      if (m.baseline_id === null || base === null) return { text: t("suggestUi.firstVersion"), cls: "muted" };
      const cls = m[key] > base ? "figure-up" : m[key] < base ? "figure-down" : "muted";
      return { text: t("suggestUi.versus", { version: m.baseline_id, value: percent(base) }), cls };
    };
    const itemLabel = (code) => `${code} ${itemName(code)}`;

    return {
      t, models, trainings, loaded, run, asking, waiting, promoted, perItem,
      STATE_TAGS, RUN_TAGS, percent, versus, itemLabel, retrain,
    };
  },
  template: `
  <div class="models-page" data-test="models-page">
    <div class="page-head">
      <h2>{{ t('suggestUi.title') }}</h2>
      <el-button type="primary" :loading="asking || waiting" data-test="retrain" @click="retrain">{{ t('suggestUi.retrain') }}</el-button>
      <span v-if="run" class="run-line" data-test="run-state" :data-state="run.state">
        <span>{{ t('suggestUi.run', { id: run.id }) }}</span>
        <el-tag disable-transitions size="small" :type="RUN_TAGS[run.state]">{{ t('suggestUi.runStates.' + run.state) }}</el-tag>
        <span v-if="run.state === 'done' && run.model_id" class="small">{{ t('suggestUi.runModel', { version: run.model_id }) }}</span>
        <span v-if="run.error" class="small figure-down">{{ run.error }}</span>
      </span>
    </div>

    <el-card shadow="never" class="panel">
      <template #header><div class="panel-head"><span>{{ t('suggestUi.versions') }}</span></div></template>
      <div v-if="loaded && !models.length" class="empty-line">{{ t('suggestUi.empty') }}</div>
      <el-table v-else :data="models" size="small" data-test="model-versions" row-key="id">
        <el-table-column :label="t('suggestUi.version')" width="80">
          <template #default="{ row }"><span class="mono strong" :data-model="row.id">v{{ row.id }}</span></template>
        </el-table-column>
        <el-table-column :label="t('suggestUi.state')" width="96">
          <template #default="{ row }"><el-tag disable-transitions size="small" :type="STATE_TAGS[row.state]">{{ t('suggestUi.states.' + row.state) }}</el-tag></template>
        </el-table-column>
        <el-table-column :label="t('suggestUi.trained')" min-width="120">
          <template #default="{ row }">{{ $fmtTime(row.created_at) }}
            <div v-if="row.promoted_at" class="muted small">{{ t('suggestUi.promotedAt', { time: $fmtTime(row.promoted_at) }) }}</div></template>
        </el-table-column>
        <el-table-column :label="t('suggestUi.corpusLines')" prop="corpus_lines" align="right" min-width="80" />
        <el-table-column :label="t('suggestUi.orderLines')" prop="order_lines" align="right" min-width="80" />
        <el-table-column :label="t('suggestUi.corrections')" prop="corrections" align="right" min-width="80" />
        <el-table-column :label="t('suggestUi.heldBack')" prop="held_back" align="right" min-width="80" />
        <el-table-column :label="t('suggestUi.top1')" min-width="130">
          <template #default="{ row }"><span class="strong">{{ percent(row.top1) }}</span>
            <div class="small" :class="versus(row, 'top1').cls">{{ versus(row, 'top1').text }}</div></template>
        </el-table-column>
        <el-table-column :label="t('suggestUi.top3')" min-width="130">
          <template #default="{ row }"><span class="strong">{{ percent(row.top3) }}</span>
            <div class="small" :class="versus(row, 'top3').cls">{{ versus(row, 'top3').text }}</div></template>
        </el-table-column>
        <el-table-column :label="t('suggestUi.seconds')" align="right" min-width="70">
          <template #default="{ row }">{{ row.seconds.toFixed(1) }}</template>
        </el-table-column>
      </el-table>
    </el-card>

    <div v-if="promoted" class="two-col wide-left" data-test="promoted-figures">
      <el-card shadow="never" class="panel">
        <template #header><div class="panel-head"><span>{{ t('suggestUi.byItem', { version: promoted.id }) }}</span></div></template>
        <el-table :data="perItem" size="small" max-height="420" data-test="per-item">
          <el-table-column :label="t('suggestUi.item')" min-width="180">
            <template #default="{ row }">{{ itemLabel(row.code) }}</template>
          </el-table-column>
          <el-table-column :label="t('suggestUi.lines')" prop="lines" align="right" width="80" />
          <el-table-column :label="t('suggestUi.top1')" align="right" width="90">
            <template #default="{ row }"><span :class="{ 'figure-down': row.top1 < promoted.top1 }">{{ percent(row.top1) }}</span></template>
          </el-table-column>
          <el-table-column :label="t('suggestUi.top3')" align="right" width="90">
            <template #default="{ row }">{{ percent(row.top3) }}</template>
          </el-table-column>
        </el-table>
      </el-card>
      <el-card shadow="never" class="panel">
        <template #header><div class="panel-head"><span>{{ t('suggestUi.confusions') }}</span></div></template>
        <div v-if="!promoted.confusions.length" class="empty-line">{{ t('suggestUi.noConfusions') }}</div>
        <ol v-else class="confusions" data-test="confusions">
          <li v-for="c in promoted.confusions" :key="c[0] + c[1]">
            {{ itemLabel(c[0]) }} → {{ itemLabel(c[1]) }} <span class="muted">{{ t('suggestUi.times', { count: c[2] }) }}</span></li>
        </ol>
      </el-card>
    </div>

    <el-card shadow="never" class="panel">
      <template #header><div class="panel-head"><span>{{ t('suggestUi.trainings') }}</span></div></template>
      <div v-if="loaded && !trainings.length" class="empty-line">{{ t('suggestUi.noRuns') }}</div>
      <el-table v-else :data="trainings" size="small" data-test="trainings" row-key="id">
        <el-table-column label="#" width="60">
          <template #default="{ row }"><span class="mono">{{ row.id }}</span></template>
        </el-table-column>
        <el-table-column :label="t('suggestUi.reason')" min-width="100">
          <template #default="{ row }">{{ t('suggestUi.reasons.' + row.reason) }}</template>
        </el-table-column>
        <el-table-column :label="t('suggestUi.requestedBy')" min-width="90">
          <template #default="{ row }">{{ row.requested_by_name || t('app.none') }}</template>
        </el-table-column>
        <el-table-column :label="t('suggestUi.state')" width="96">
          <template #default="{ row }"><el-tag disable-transitions size="small" :type="RUN_TAGS[row.state]">{{ t('suggestUi.runStates.' + row.state) }}</el-tag></template>
        </el-table-column>
        <el-table-column :label="t('suggestUi.due')" min-width="110">
          <template #default="{ row }">{{ $fmtTime(row.due_at) }}</template>
        </el-table-column>
        <el-table-column :label="t('suggestUi.finished')" min-width="110">
          <template #default="{ row }">{{ $fmtTime(row.finished_at) || t('app.none') }}</template>
        </el-table-column>
        <el-table-column :label="t('suggestUi.result')" min-width="200">
          <template #default="{ row }">
            <span v-if="row.model_id" class="mono">v{{ row.model_id }}</span>
            <span v-if="row.error" class="figure-down small">{{ row.error }}</span>
          </template>
        </el-table-column>
      </el-table>
    </el-card>
  </div>`,
};
