"""The reader network for training (torch): the converted e5 encoder, frozen, with LoRA
deltas on its linear layers and a span head (start and end logits per token).

Serving does not import this module: the deltas are merged into the base weights and
run with onnxruntime (``assistant.reader.graph``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

# The linear layers of a BERT layer that get LoRA deltas, by their transformers names.
TARGETS = ("attention.self.query", "attention.self.key", "attention.self.value",
           "attention.output.dense", "intermediate.dense", "output.dense")


@dataclass(frozen=True)
class AdapterConfig:
    """What is trained: LoRA of ``rank`` on the ``TARGETS`` of layers ``first_layer``
    up, plus the head; the reader keeps the first ``layers`` of the base's layers
    (0: all of them), so a shallower reader costs proportionally less per token."""

    rank: int = 8
    alpha: float = 16.0
    first_layer: int = 0
    dropout: float = 0.1
    layers: int = 0

    @property
    def scale(self) -> float:
        return self.alpha / self.rank

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class LoRALinear(nn.Module):
    """``base(x) + scale * B(A(x))``, with ``base`` frozen and B starting at zero."""

    def __init__(self, base: nn.Linear, rank: int, scale: float, dropout: float) -> None:
        super().__init__()
        self.base = base
        self.scale = scale
        self.lora_a = nn.Parameter(torch.empty(rank, base.in_features))
        self.lora_b = nn.Parameter(torch.zeros(base.out_features, rank))
        nn.init.kaiming_uniform_(self.lora_a, a=math.sqrt(5))
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        delta = (self.dropout(x) @ self.lora_a.T) @ self.lora_b.T
        return self.base(x) + self.scale * delta

    def merged_weight(self) -> torch.Tensor:
        return self.base.weight + self.scale * (self.lora_b @ self.lora_a)


class SpanReader(nn.Module):
    """Encoder + head: ``forward(ids, mask) -> (start_logits, end_logits)``."""

    def __init__(self, encoder: Any, config: AdapterConfig) -> None:
        super().__init__()
        self.encoder = encoder
        self.config = config
        for p in self.encoder.parameters():
            p.requires_grad = False
        if config.layers:
            kept = self.encoder.encoder.layer
            if not 0 < config.layers <= len(kept):
                raise ValueError(f"the base has {len(kept)} layers; cannot keep "
                                 f"{config.layers}")
            self.encoder.encoder.layer = kept[:config.layers]
            self.encoder.config.num_hidden_layers = config.layers
        for index, layer in enumerate(self.encoder.encoder.layer):
            if index < config.first_layer:
                continue
            for name in TARGETS:
                parent_name, _, leaf = name.rpartition(".")
                parent = layer.get_submodule(parent_name)
                setattr(parent, leaf, LoRALinear(getattr(parent, leaf), config.rank,
                                                 config.scale, config.dropout))
        hidden = self.encoder.config.hidden_size
        self.head = nn.Linear(hidden, 2)
        nn.init.normal_(self.head.weight, std=0.02)
        nn.init.zeros_(self.head.bias)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = self.encoder(input_ids=ids, attention_mask=mask).last_hidden_state
        logits = self.head(hidden)
        return logits[..., 0], logits[..., 1]

    def adapter_state(self) -> dict[str, torch.Tensor]:
        """The trained tensors only: what ships."""
        return {name: p.detach().clone().contiguous()
                for name, p in self.named_parameters() if p.requires_grad}

    def load_adapter(self, state: dict[str, torch.Tensor]) -> None:
        own = dict(self.named_parameters())
        missing = [n for n, p in own.items() if p.requires_grad and n not in state]
        if missing or any(n not in own for n in state):
            raise ValueError("adapter does not fit this reader: "
                             f"missing {missing[:3]}, unexpected "
                             f"{[n for n in state if n not in own][:3]}")
        with torch.no_grad():
            for name, tensor in state.items():
                own[name].copy_(tensor)


def load_encoder(model_dir: Path) -> nn.Module:
    """The converted e5 as a transformers BertModel, in float32, without its pooler."""
    from transformers import BertModel

    model = BertModel.from_pretrained(str(model_dir), add_pooling_layer=False,
                                      torch_dtype=torch.float32)
    model.float()
    return model
