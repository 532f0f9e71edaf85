"""`rasa run` without TensorFlow: the Rasa server as bot/run-rasa.sh starts it.

Serving this bot's model never runs TensorFlow: the pipeline is ONNX MiniLM, char TF-IDF,
logistic regression and regexes, the policies are memoization and rules (bot/config.yml).
Rasa 3.6 imports TensorFlow anyway, through five modules that only training, or model types
this bot does not use (DIET, TED, ResponseSelector), need:

- ``rasa.utils.tensorflow.callback`` and ``rasa.utils.tensorflow.data_generator``, imported by
  ``rasa.utils.train_utils``, which every entity extractor and policy imports;
- ``rasa.nlu.classifiers.diet_classifier``, ``rasa.nlu.selectors.response_selector`` and
  ``rasa.core.policies.ted_policy``, imported by the training-time recipe validator that every
  model's graph schema names.

Importing TensorFlow costs about 550 MB of resident memory per Rasa process (measured here:
85 MB -> 632 MB) and seconds of start-up. This entry point puts stand-ins for those five
modules in ``sys.modules`` before Rasa is imported, then runs Rasa's own command line. A
stand-in class can be named, imported, subclassed and compared with ``isinstance``; anything
else (creating one, loading one from a model, calling its methods) raises
``NeedsTensorFlow``, which says to serve such a model with plain ``rasa run``. Training,
``rasa test`` and the benchmarks run Rasa as it is.
``tests/bot/test_serve.py`` loads the trained model and answers with it in a process set up
this way, and checks that TensorFlow was never imported.
"""

from __future__ import annotations

import gc
import sys
import types

STAND_INS: dict[str, tuple[str, ...]] = {
    "rasa.utils.tensorflow.callback": ("RasaTrainingLogger", "RasaModelCheckpoint"),
    "rasa.utils.tensorflow.data_generator": ("RasaDataGenerator", "RasaBatchDataGenerator"),
    "rasa.nlu.classifiers.diet_classifier": ("DIETClassifier",),
    "rasa.nlu.selectors.response_selector": ("ResponseSelector",),
    "rasa.core.policies.ted_policy": ("TEDPolicy",),
}


class NeedsTensorFlow(AttributeError):
    """A TensorFlow component was used in a process serving without TensorFlow."""


class _StandIn(type):
    def _refuse(cls, what: str) -> NeedsTensorFlow:
        return NeedsTensorFlow(
            f"{cls.__module__}.{cls.__name__}{what} needs TensorFlow, which bot/serve.py keeps "
            "out of the Rasa server (this bot's model has no TensorFlow component). Serve "
            "such a model with plain `rasa run`."
        )

    def __getattr__(cls, name: str):  # noqa: ANN204 - only missing attributes come here
        if name.startswith("__"):
            raise AttributeError(name)
        raise cls._refuse(f".{name}")

    def __call__(cls, *args: object, **kwargs: object):  # noqa: ANN204
        raise cls._refuse("()")


def install() -> None:
    """Puts the stand-in modules in place (before anything imports Rasa)."""
    for module_name, class_names in STAND_INS.items():
        if module_name in sys.modules:
            continue  # already imported for real: nothing to spare
        module = types.ModuleType(module_name, "stand-in without TensorFlow (bot/serve.py)")
        for class_name in class_names:
            setattr(module, class_name, _StandIn(class_name, (), {"__module__": module_name}))
        sys.modules[module_name] = module


def freeze_after_load() -> None:
    """Once the model is loaded, freezes what start-up made out of the garbage collector.

    A full (generation 2) collection scans every tracked object: right after this process
    loaded its model one took 90 ms (measured with a ``gc.callbacks`` hook), and in the app a
    collection like it paused a customer's turn for 78 ms. Rasa, the model and the domain live
    as long as the process; frozen, they are skipped, and a collection scans only what
    requests leave behind."""
    import rasa.core.run

    load = rasa.core.run.load_agent_on_start
    if getattr(load, "freezes", False):
        return

    async def load_then_freeze(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        agent = await load(*args, **kwargs)
        gc.collect()
        gc.freeze()
        return agent

    load_then_freeze.freezes = True  # type: ignore[attr-defined]
    # serve_application looks the listener up by this name when the server starts
    rasa.core.run.load_agent_on_start = load_then_freeze


def main() -> None:
    install()
    freeze_after_load()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
