"""The build's tuning step: trains on the articles' stored questions, once per input."""

from __future__ import annotations

import json
import shutil

import pytest

from api.config import Settings
from knowledge_base import finetune, onnx_export
from knowledge_base.articles import load_dir
from knowledge_base.embedder import model_path


def test_the_built_model_is_current_for_the_articles_in_the_repo():
    """`make embedder` retrains only when the base model, the articles' questions and
    passages or the settings change: the model the build made matches what is here."""
    tuned = model_path()
    data = finetune.training_data(load_dir(finetune.ARTICLES))
    assert finetune.is_current(tuned, finetune.fingerprint(finetune.base_model_path(), data))
    manifest = json.loads((tuned / finetune.TUNING).read_text())
    assert manifest["articles"] == len(data) >= 40
    assert manifest["questions"] == sum(len(qs) for _, qs, _ in data)


def test_a_changed_question_makes_the_model_out_of_date():
    data = finetune.training_data(load_dir(finetune.ARTICLES))
    slug, questions, passages = data[0]
    changed = [(slug, [*questions, "a question an editor added"], passages), *data[1:]]
    base = finetune.base_model_path()
    assert finetune.fingerprint(base, changed) != finetune.fingerprint(base, data)
    assert not finetune.is_current(model_path(), finetune.fingerprint(base, changed))


def test_too_few_articles_with_questions_is_a_clear_error(tmp_path):
    articles = tmp_path / "articles"
    articles.mkdir()
    one = next(finetune.ARTICLES.glob("*.md"))
    shutil.copy(one, articles / one.name)
    with pytest.raises(ValueError, match="fewer than two articles"):
        finetune.tune(tmp_path / "out", articles)
    assert not (tmp_path / "out").exists()
    assert finetune.main([]) == 2


def test_the_export_the_product_serves_is_made_from_the_tuned_model():
    manifest = json.loads((Settings().embedder_onnx_dir / "manifest.json").read_text())
    assert manifest["source"] == model_path().name
    assert manifest["source_sha256"] == onnx_export._source_fingerprint(model_path())
    assert manifest["source_sha256"] != onnx_export._source_fingerprint(finetune.base_model_path())
