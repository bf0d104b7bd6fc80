// Writing an article (#/knowledge/new, #/knowledge/{id}/edit): every field of a version,
// in Chinese and English, where it applies, its validity and review dates and a note on
// what changed; saved as a draft or submitted for review. Each save is a new version built
// on the latest one: when someone saved another meanwhile the server answers 409
// stale_version, and the editor says so and keeps what was typed, with the other version
// beside it to compare and a save that then builds on it.

import { computed, onMounted, reactive, ref } from "vue";
import { ElMessage } from "element-plus";
import { useI18n } from "vue-i18n";
import { api } from "../../api.js";
import { errorText, go, nameOf, refs } from "../../store.js";
import { KB_KINDS } from "../../vocab.js";
import { AreaSelect, ItemSelect } from "../pickers.js";
import { VersionDiff } from "./diff.js";
import { KbNav, mayEdit, person } from "./common.js";

const TEXTS = ["title", "body", "script", "fees", "time_limit"];
const LISTS = ["documents", "steps"]; // typed one entry a line

function blank() {
  return {
    kind: "faq",
    ...Object.fromEntries([...TEXTS, ...LISTS].map((f) => [f, ""])),
    en: Object.fromEntries([...TEXTS, ...LISTS].map((f) => [f, ""])),
    service_items: [],
    hotlines: [],
    areas: [],
    valid_from: null,
    valid_until: null,
    review_due: null,
    change_note: "",
  };
}

const lines = (text) => String(text || "").split("\n").map((s) => s.trim()).filter(Boolean);

// A version as the form holds it (lists as lines of text).
function fromVersion(kind, v) {
  const en = v.en || {};
  return {
    kind,
    ...Object.fromEntries(TEXTS.map((f) => [f, v[f] || ""])),
    ...Object.fromEntries(LISTS.map((f) => [f, (v[f] || []).join("\n")])),
    en: {
      ...Object.fromEntries(TEXTS.map((f) => [f, en[f] || ""])),
      ...Object.fromEntries(LISTS.map((f) => [f, (en[f] || []).join("\n")])),
    },
    service_items: [...(v.service_items || [])],
    hotlines: [...(v.hotlines || [])],
    areas: [...(v.areas || [])],
    valid_from: v.valid_from,
    valid_until: v.valid_until,
    review_due: v.review_due,
    change_note: "",
  };
}

// The request's body; English only for the fields written in English.
function body(form) {
  const en = {};
  for (const f of TEXTS) if (form.en[f].trim()) en[f] = form.en[f].trim();
  for (const f of LISTS) if (lines(form.en[f]).length) en[f] = lines(form.en[f]);
  return {
    kind: form.kind,
    ...Object.fromEntries(TEXTS.map((f) => [f, form[f].trim()])),
    ...Object.fromEntries(LISTS.map((f) => [f, lines(form[f])])),
    en,
    service_items: form.service_items,
    hotlines: form.hotlines,
    areas: form.areas,
    valid_from: form.valid_from || null,
    valid_until: form.valid_until || null,
    review_due: form.review_due || null,
    change_note: form.change_note.trim(),
  };
}

export default {
  components: { AreaSelect, ItemSelect, KbNav, VersionDiff },
  props: { params: Object },
  setup(props) {
    const { t } = useI18n();
    const id = props.params.id ? Number(props.params.id) : null;
    const form = reactive(blank());
    const article = ref(null); // the article edited, as loaded
    const base = ref(null); // the version the next save builds on
    const loaded = ref(!id);
    const error = ref("");
    const saving = ref(false);
    const fieldErrors = ref({});
    // 409 stale_version: the version someone else saved, once reloaded.
    const conflict = reactive({ on: false, theirs: null, loading: false });
    const showEnglish = ref(false);

    async function fetchLatest() {
      const first = await api.get(`/api/v1/knowledge/articles/${id}`);
      if (first.version.version === first.latest_version) return first;
      return api.get(`/api/v1/knowledge/articles/${id}`, { version: first.latest_version });
    }

    onMounted(async () => {
      if (!id) {
        // "Write an article" from a gap: the question asked is where it starts.
        if (props.params.question) form.title = props.params.question;
        return;
      }
      try {
        const found = await fetchLatest();
        article.value = found;
        base.value = found.latest_version;
        Object.assign(form, fromVersion(found.kind, found.version));
        showEnglish.value = Object.values(form.en).some((value) => value.trim());
        loaded.value = true;
      } catch (e) {
        error.value = errorText(e);
      }
    });

    const allowed = computed(() => !article.value || mayEdit(article.value.owner));
    const rejected = computed(() => (article.value?.version.state === "rejected" ? article.value.version : null));

    async function save(submit) {
      if (!form.title.trim()) {
        ElMessage.warning(t("agent.required", { field: t("kbUi.fields.title") }));
        return;
      }
      saving.value = true;
      fieldErrors.value = {};
      try {
        const sent = { ...body(form), submit };
        const saved = id
          ? await api.put(`/api/v1/knowledge/articles/${id}`, { ...sent, base_version: base.value })
          : await api.post("/api/v1/knowledge/articles", sent);
        ElMessage.success(submit ? t("kbUi.submitted") : t("kbUi.savedDraft"));
        // The answer shows the published version; the one just written is the latest.
        go(`/knowledge/${saved.id}?version=${saved.latest_version}`);
      } catch (e) {
        if (e.code === "stale_version") {
          conflict.on = true;
          conflict.theirs = null;
        } else {
          fieldErrors.value = e.fields || {};
          ElMessage.error(errorText(e));
        }
      } finally {
        saving.value = false;
      }
    }

    // The other version, beside the text typed; the next save builds on it.
    async function reloadTheirs() {
      conflict.loading = true;
      try {
        const latest = await fetchLatest();
        conflict.theirs = latest;
        base.value = latest.latest_version;
      } catch (e) {
        ElMessage.error(errorText(e));
      } finally {
        conflict.loading = false;
      }
    }
    function takeTheirs() {
      Object.assign(form, fromVersion(conflict.theirs.kind, conflict.theirs.version));
      Object.assign(conflict, { on: false, theirs: null });
    }
    // The text typed, as a version to compare with theirs.
    const mine = computed(() => body(form));
    const cancel = () => go(id ? `/knowledge/${id}` : "/knowledge");

    return {
      t, id, form, article, loaded, error, saving, fieldErrors, conflict, showEnglish, allowed, rejected, mine,
      refs, nameOf, person, KB_KINDS, save, reloadTheirs, takeTheirs, cancel,
    };
  },
  template: `
  <div class="kb-page kb-editor-page">
    <KbNav :active="id ? 'search' : 'new'" />
    <el-alert v-if="error" :title="error" type="error" show-icon :closable="false" />
    <el-alert v-else-if="!allowed" :title="t('kbUi.notYours')" type="warning" show-icon :closable="false" />
    <el-card v-if="loaded && allowed" shadow="never" class="panel kb-editor" data-test="kb-editor">
      <template #header><div class="panel-head">
        <span>{{ id ? t('kbUi.editTitle', { title: article?.version.title, version: article?.latest_version }) : t('kbUi.newArticle') }}</span>
        <span v-if="article" class="muted small">{{ t('kbUi.buildsOn', { version: article.latest_version }) }}</span></div></template>

      <el-alert v-if="conflict.on" type="error" show-icon :closable="false" class="kb-note" data-test="kb-conflict"
                :title="t('kbUi.staleTitle')">
        <p class="kb-conflict-text">{{ t('kbUi.staleText') }}</p>
        <el-button v-if="!conflict.theirs" size="small" type="primary" :loading="conflict.loading" data-test="kb-reload-theirs"
                   @click="reloadTheirs">{{ t('kbUi.staleReload') }}</el-button>
        <template v-else>
          <p class="kb-conflict-text">{{ t('kbUi.staleLoaded', { version: conflict.theirs.latest_version, who: person(conflict.theirs.version.written_by) }) }}</p>
          <el-button size="small" @click="takeTheirs">{{ t('kbUi.staleTakeTheirs') }}</el-button>
        </template>
      </el-alert>
      <section v-if="conflict.theirs" class="kb-conflict-diff">
        <h4>{{ t('kbUi.staleDiff', { version: conflict.theirs.latest_version }) }}</h4>
        <VersionDiff :before="conflict.theirs.version" :after="mine" />
      </section>

      <el-alert v-if="rejected" type="error" show-icon :closable="false" class="kb-note" data-test="kb-rejected-note"
                :title="t('kbUi.rejectedBy', { who: person(rejected.reviewed_by), time: $fmtTime(rejected.reviewed_at, true) })"
                :description="rejected.review_note" />

      <el-form label-position="top" class="kb-form" @submit.prevent>
        <el-form-item :label="t('kbUi.kind')" required class="span-2">
          <el-radio-group v-model="form.kind" data-test="kb-form-kind">
            <el-radio-button v-for="k in KB_KINDS" :key="k" :value="k">{{ t('kbUi.kinds.' + k) }}</el-radio-button>
          </el-radio-group>
        </el-form-item>
        <el-form-item :label="t('kbUi.fields.title')" required :error="fieldErrors.title" class="span-2">
          <el-input v-model="form.title" maxlength="200" show-word-limit data-test="kb-form-title" />
        </el-form-item>
        <el-form-item :label="t('kbUi.fields.script')" :error="fieldErrors.script" class="span-2">
          <el-input v-model="form.script" type="textarea" :rows="3" maxlength="4000" :placeholder="t('kbUi.scriptHint')" data-test="kb-form-script" />
        </el-form-item>
        <el-form-item :label="t('kbUi.fields.body')" :error="fieldErrors.body" class="span-2">
          <el-input v-model="form.body" type="textarea" :rows="6" maxlength="20000" data-test="kb-form-body" />
        </el-form-item>
        <el-form-item :label="t('kbUi.fields.documents')" :error="fieldErrors.documents">
          <el-input v-model="form.documents" type="textarea" :rows="3" :placeholder="t('kbUi.oneALine')" data-test="kb-form-documents" />
        </el-form-item>
        <el-form-item :label="t('kbUi.fields.steps')" :error="fieldErrors.steps">
          <el-input v-model="form.steps" type="textarea" :rows="3" :placeholder="t('kbUi.oneALine')" data-test="kb-form-steps" />
        </el-form-item>
        <el-form-item :label="t('kbUi.fields.fees')" :error="fieldErrors.fees">
          <el-input v-model="form.fees" maxlength="2000" data-test="kb-form-fees" />
        </el-form-item>
        <el-form-item :label="t('kbUi.fields.time_limit')" :error="fieldErrors.time_limit">
          <el-input v-model="form.time_limit" maxlength="500" data-test="kb-form-time-limit" />
        </el-form-item>

        <div class="span-2 kb-english-toggle">
          <el-checkbox v-model="showEnglish" data-test="kb-form-english-toggle">{{ t('kbUi.english') }}</el-checkbox>
          <span class="muted small">{{ t('kbUi.englishHint') }}</span>
        </div>
        <template v-if="showEnglish">
          <el-form-item :label="t('kbUi.inEnglish', { field: t('kbUi.fields.title') })" class="span-2">
            <el-input v-model="form.en.title" maxlength="200" data-test="kb-form-en-title" />
          </el-form-item>
          <el-form-item :label="t('kbUi.inEnglish', { field: t('kbUi.fields.script') })" class="span-2">
            <el-input v-model="form.en.script" type="textarea" :rows="2" data-test="kb-form-en-script" />
          </el-form-item>
          <el-form-item :label="t('kbUi.inEnglish', { field: t('kbUi.fields.body') })" class="span-2">
            <el-input v-model="form.en.body" type="textarea" :rows="4" />
          </el-form-item>
          <el-form-item :label="t('kbUi.inEnglish', { field: t('kbUi.fields.documents') })">
            <el-input v-model="form.en.documents" type="textarea" :rows="2" :placeholder="t('kbUi.oneALine')" />
          </el-form-item>
          <el-form-item :label="t('kbUi.inEnglish', { field: t('kbUi.fields.steps') })">
            <el-input v-model="form.en.steps" type="textarea" :rows="2" :placeholder="t('kbUi.oneALine')" />
          </el-form-item>
          <el-form-item :label="t('kbUi.inEnglish', { field: t('kbUi.fields.fees') })">
            <el-input v-model="form.en.fees" />
          </el-form-item>
          <el-form-item :label="t('kbUi.inEnglish', { field: t('kbUi.fields.time_limit') })">
            <el-input v-model="form.en.time_limit" />
          </el-form-item>
        </template>

        <el-form-item :label="t('kbUi.fields.service_items')" :error="fieldErrors.service_items" class="span-2">
          <ItemSelect v-model="form.service_items" multiple :placeholder="t('kbUi.anyItem')" />
        </el-form-item>
        <el-form-item :label="t('kbUi.fields.hotlines')" :error="fieldErrors.hotlines">
          <el-select v-model="form.hotlines" multiple clearable class="full" :placeholder="t('kbUi.allHotlines')" data-test="kb-form-hotlines">
            <el-option v-for="h in refs.hotlines" :key="h.code" :value="h.code" :label="h.code + ' ' + nameOf(h)" />
          </el-select>
        </el-form-item>
        <el-form-item :label="t('kbUi.fields.areas')" :error="fieldErrors.areas">
          <AreaSelect v-model="form.areas" multiple :placeholder="t('kbUi.everywhere')" />
        </el-form-item>
        <el-form-item :label="t('kbUi.fields.valid_from')" :error="fieldErrors.valid_from">
          <el-date-picker v-model="form.valid_from" type="date" value-format="YYYY-MM-DD" class="full" :placeholder="t('kbUi.always')" />
        </el-form-item>
        <el-form-item :label="t('kbUi.fields.valid_until')" :error="fieldErrors.valid_until">
          <el-date-picker v-model="form.valid_until" type="date" value-format="YYYY-MM-DD" class="full" :placeholder="t('kbUi.noEnd')" />
        </el-form-item>
        <el-form-item :label="t('kbUi.fields.review_due')" :error="fieldErrors.review_due">
          <el-date-picker v-model="form.review_due" type="date" value-format="YYYY-MM-DD" class="full" />
        </el-form-item>
        <el-form-item :label="t('kbUi.fields.change_note')" :error="fieldErrors.change_note">
          <el-input v-model="form.change_note" maxlength="1000" :placeholder="t('kbUi.changeNoteHint')" data-test="kb-form-note" />
        </el-form-item>

        <div class="span-2 form-actions">
          <el-button size="large" :loading="saving" data-test="kb-save-draft" @click="save(false)">{{ t('kbUi.saveDraft') }}</el-button>
          <el-button size="large" type="primary" :loading="saving" data-test="kb-save-submit" @click="save(true)">{{ t('kbUi.submitForReview') }}</el-button>
          <el-button size="large" text @click="cancel">{{ t('app.cancel') }}</el-button>
        </div>
      </el-form>
    </el-card>
  </div>`,
};
