"""A business type's flow drawn as a Mermaid flowchart, for reviewers and front ends.

A stage that refuses the application (`end: REJECTED`) or records its withdrawal (`end:
WITHDRAWN`) is drawn as a flag with its end in the label and a class of that name, so a
reviewer tells the ways a case can close apart at a glance.
"""

from __future__ import annotations

from collections.abc import Mapping

from metamodel.effect_specs import CaseEnd
from metamodel.specs import DEFAULT_OUTCOME, BusinessTypeSpec, StageSpec, StageUsage

REFUSING_STYLES = {
    CaseEnd.REJECTED: "fill:#fde2e1,stroke:#b42318",
    CaseEnd.WITHDRAWN: "fill:#eeeeee,stroke:#667085,stroke-dasharray:4 2",
}
"""How each end that archives nothing is drawn (a Mermaid classDef)."""


def mermaid(spec: BusinessTypeSpec, stages: Mapping[str, StageSpec]) -> str:
    """`flowchart TD` with one node per stage and one edge per transition target."""
    lines = ["flowchart TD"]
    for usage in spec.stages:
        name = stages[usage.stage].name if usage.stage in stages else usage.stage
        lines.append(f"    {_node(spec, usage, name)}")
    for transition in spec.transitions:
        label = "" if transition.outcome == DEFAULT_OUTCOME else transition.outcome
        if transition.condition:
            label = f"{label} if {transition.condition}".strip()
        arrow = f'-->|"{_escape(label)}"|' if label else "-->"
        for target in transition.to:
            lines.append(f"    {transition.from_stage} {arrow} {target}")
    for end, style in REFUSING_STYLES.items():
        marked = [u.stage for u in spec.stages if u.end is end]
        if marked:
            lines.append(f"    classDef {end.value.lower()} {style}")
            lines.append(f"    class {','.join(marked)} {end.value.lower()}")
    return "\n".join(lines)


def _node(spec: BusinessTypeSpec, usage: StageUsage, name: str) -> str:
    if usage.end in REFUSING_STYLES:
        assert usage.end is not None
        return f'{usage.stage}>"{_escape(name)} ({usage.end.value})"]'
    shape = (
        ("[[", "]]") if usage.join else ("([", "])") if usage.stage == spec.start else ("[", "]")
    )
    return f'{usage.stage}{shape[0]}"{_escape(name)}"{shape[1]}'


def _escape(text: str) -> str:
    """Mermaid labels in double quotes take HTML entities for quotes."""
    return text.replace('"', "#quot;")
