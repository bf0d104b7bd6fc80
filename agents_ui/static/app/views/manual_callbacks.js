// The agents' manual callbacks (人工回访): attempts of campaigns with the manual channel
// that are due now. The agent calls the citizen and records the answers (solved?, the
// five-level rating, a comment) or why nobody was reached; the loop then closes or
// reopens the order as a voice or SMS answer would.

import { computed, onBeforeUnmount, onMounted, reactive, ref } from "vue";
import { ElMessage } from "element-plus";
import { useI18n } from "vue-i18n";
import { api } from "../api.js";
import { errorText } from "../store.js";
import { useLiveReload } from "./common.js";

// Attempts fall due as time passes, not only when something happens.
const POLL_MS = 30000;
const OUTCOMES = ["no-answer", "busy", "wrong-number"];

function emptyAnswer() {
  return { reached: true, solved: null, rating: null, comment: "", outcome: "no-answer" };
}

export default {
  emits: ["dialog"],
  setup(props, { emit }) {
    const { t } = useI18n();
    const items = ref([]);
    const dialog = reactive({ open: false, row: null, saving: false, answer: emptyAnswer() });

    async function load() {
      items.value = (await api.get("/api/v1/callbacks/manual", { limit: 50 })).items;
    }
    useLiveReload(load, { accept: (event) => event.type.startsWith("callback"), wait: 500 });
    let timer = null;
    onMounted(() => {
      load();
      timer = setInterval(load, POLL_MS);
    });
    onBeforeUnmount(() => clearInterval(timer));

    function openCall(row) {
      Object.assign(dialog, { open: true, row, saving: false, answer: emptyAnswer() });
      emit("dialog", true);
    }
    function closed() {
      emit("dialog", false);
    }
    // An order's callback asks "solved?" first; a proactive survey only the rating.
    const asksSolved = computed(() => dialog.row?.order_id != null && dialog.row?.step !== "rating");

    async function submit() {
      const a = dialog.answer;
      let body;
      if (a.reached) {
        if ((asksSolved.value && a.solved === null) || !a.rating) {
          ElMessage.warning(t("manual.answerNeeded"));
          return;
        }
        body = { reached: true, rating: a.rating, comment: a.comment.trim() };
        if (asksSolved.value) body.solved = a.solved;
      } else {
        body = { reached: false, outcome: a.outcome };
      }
      dialog.saving = true;
      try {
        await api.post(`/api/v1/callbacks/manual/${dialog.row.id}/answer`, body);
        ElMessage.success(t(a.reached ? "manual.recordedOk" : "manual.notReachedOk"));
        dialog.open = false;
        await load();
      } catch (e) {
        ElMessage.error(errorText(e));
      } finally {
        dialog.saving = false;
      }
    }

    return { t, items, dialog, openCall, closed, asksSolved, submit, OUTCOMES };
  },
  template: `
  <el-card shadow="never" class="panel">
    <template #header>
      <div class="panel-head"><span>{{ t('manual.title') }}</span>
        <el-tag disable-transitions size="small" :type="items.length ? 'warning' : 'info'" round data-test="manual-count">{{ items.length }}</el-tag></div>
    </template>
    <div v-if="!items.length" class="empty-line">{{ t('manual.empty') }}</div>
    <ul v-else class="plain-list" data-test="manual-callbacks">
      <li v-for="c in items" :key="c.id" class="order-row" tabindex="0" :data-attempt="c.id"
          @click="openCall(c)" @keyup.enter="openCall(c)">
        <div class="order-row-head"><span class="strong small">{{ c.contact_name || t('manual.citizen') }}</span>
          <span class="mono small">{{ c.phone }}</span></div>
        <div class="muted small ellipsis">{{ c.campaign_name }}<template v-if="c.order_number"> · {{ c.order_number }}</template></div>
        <div class="muted tiny">{{ t('manual.attempt', { n: c.number }) }} · {{ $fmtTime(c.due_at) }}</div>
      </li>
    </ul>
  </el-card>

  <el-dialog v-model="dialog.open" :title="t('manual.dialogTitle')" width="620px" @closed="closed" data-test="manual-dialog">
    <div v-if="dialog.row" @keydown.ctrl.enter.prevent="submit">
      <el-descriptions :column="2" border size="small" class="manual-facts">
        <el-descriptions-item :label="t('manual.citizen')">{{ dialog.row.contact_name || '—' }}</el-descriptions-item>
        <el-descriptions-item :label="t('order.phone')"><span class="mono" data-test="manual-phone">{{ dialog.row.phone }}</span></el-descriptions-item>
        <el-descriptions-item :label="t('manual.campaign')">{{ dialog.row.campaign_name }}</el-descriptions-item>
        <el-descriptions-item :label="t('unit.number')">
          <a v-if="dialog.row.order_id" class="mono link" :href="'#/orders/' + dialog.row.order_id">{{ dialog.row.order_number }}</a>
          <span v-else>—</span></el-descriptions-item>
        <el-descriptions-item v-if="dialog.row.description" :label="t('order.description')" :span="2"><div class="pre clamp-3">{{ dialog.row.description }}</div></el-descriptions-item>
        <el-descriptions-item v-if="dialog.row.reply" :label="t('order.reply')" :span="2"><div class="pre clamp-3">{{ dialog.row.reply }}</div></el-descriptions-item>
      </el-descriptions>
      <el-form label-position="top" class="manual-form" @submit.prevent="submit">
        <el-form-item :label="t('manual.reached')">
          <el-radio-group v-model="dialog.answer.reached" data-test="manual-reached">
            <el-radio-button :value="true">{{ t('manual.reachedYes') }}</el-radio-button>
            <el-radio-button :value="false">{{ t('manual.reachedNo') }}</el-radio-button>
          </el-radio-group>
        </el-form-item>
        <template v-if="dialog.answer.reached">
          <el-form-item v-if="asksSolved" :label="t('manual.solved')" required>
            <el-radio-group v-model="dialog.answer.solved" data-test="manual-solved">
              <el-radio-button :value="true">{{ t('order.solved') }}</el-radio-button>
              <el-radio-button :value="false">{{ t('order.notSolved') }}</el-radio-button>
            </el-radio-group>
          </el-form-item>
          <el-form-item :label="t('manual.rating')" required>
            <el-radio-group v-model="dialog.answer.rating" data-test="manual-rating">
              <el-radio-button v-for="level in [5, 4, 3, 2, 1]" :key="level" :value="level" :data-level="level">{{ t('rating.' + level) }}</el-radio-button>
            </el-radio-group>
          </el-form-item>
          <el-form-item :label="t('manual.comment')">
            <el-input v-model="dialog.answer.comment" type="textarea" :rows="2" maxlength="4000" data-test="manual-comment" />
          </el-form-item>
        </template>
        <el-form-item v-else :label="t('manual.outcome')" required>
          <el-radio-group v-model="dialog.answer.outcome" data-test="manual-outcome">
            <el-radio-button v-for="o in OUTCOMES" :key="o" :value="o">{{ t('manual.outcomes.' + o.replace('-', '_')) }}</el-radio-button>
          </el-radio-group>
        </el-form-item>
      </el-form>
      <p class="muted tiny">{{ t('manual.loopHint') }}</p>
    </div>
    <template #footer>
      <el-button @click="dialog.open = false">{{ t('app.cancel') }}</el-button>
      <el-button type="primary" :loading="dialog.saving" data-test="manual-submit" @click="submit">{{ t('manual.record') }} <kbd>Ctrl+Enter</kbd></el-button>
    </template>
  </el-dialog>`,
};
