"""A business type's flow drawn as a Mermaid flowchart, for reviewers and front ends."""

from __future__ import annotations

from collections.abc import Mapping

from metamodel.specs import DEFAULT_OUTCOME, BusinessTypeSpec, StageSpec


def mermaid(spec: BusinessTypeSpec, stages: Mapping[str, StageSpec]) -> str:
    """`flowchart TD` with one node per stage and one edge per transition target."""
    lines = ["flowchart TD"]
    for usage in spec.stages:
        name = stages[usage.stage].name if usage.stage in stages else usage.stage
        shape = (
            ("[[", "]]")
            if usage.join
            else ("([", "])")
            if usage.stage == spec.start
            else ("[", "]")
        )
        lines.append(f'    {usage.stage}{shape[0]}"{_escape(name)}"{shape[1]}')
    for transition in spec.transitions:
        label = "" if transition.outcome == DEFAULT_OUTCOME else transition.outcome
        if transition.condition:
            label = f"{label} if {transition.condition}".strip()
        arrow = f'-->|"{_escape(label)}"|' if label else "-->"
        for target in transition.to:
            lines.append(f"    {transition.from_stage} {arrow} {target}")
    return "\n".join(lines)


def _escape(text: str) -> str:
    """Mermaid labels in double quotes take HTML entities for quotes."""
    return text.replace('"', "#quot;")
