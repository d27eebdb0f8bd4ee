"""The presets: the lesson workbook's features, the lesson notebook's, and Kaggle's, each a schema and its way with blanks."""

from __future__ import annotations

from ..errors import DataError
from ._schema import Categorical, Continuous, Schema

__all__ = ["sheet_schema", "notebook_schema", "kaggle_schema", "preset_schema", "PRESETS", "RARE_TITLE_ROWS"]


def sheet_schema() -> Schema:
    """The lesson workbook's inputs: SibSp, Parch, Age_N, log_Fare, Pclass_1, Pclass_2, Embark_S, Embark_C, Male, Ones."""
    return Schema(
        target="Survived",
        id_column="PassengerId",
        continuous=(
            Continuous("SibSp"),
            Continuous("Parch"),
            Continuous("Age", scale="max", name="Age_N"),
            Continuous("Fare", log="log10", name="log_Fare"),
        ),
        categorical=(
            Categorical("Pclass", levels=(1, 2), names=("Pclass_1", "Pclass_2"), reference=3),
            Categorical("Embarked", levels=("S", "C"), names=("Embark_S", "Embark_C"), reference="Q"),
            Categorical("Sex", levels=("male",), names=("Male",), reference="female"),
        ),
        constant="Ones",
    )


def notebook_schema() -> Schema:
    """The lesson notebook's inputs: every column over its max, ln(Fare+1), all n dummies, no constant."""
    return Schema(
        target="Survived",
        id_column="PassengerId",
        continuous=(
            Continuous("Age", scale="max", name="Age"),
            Continuous("SibSp", scale="max", name="SibSp"),
            Continuous("Parch", scale="max", name="Parch"),
            Continuous("Fare", log="ln", scale="max", name="LogFare"),
        ),
        categorical=(
            Categorical("Sex", levels=("male", "female"), names=("Sex_male", "Sex_female"), drop_reference=False),
            Categorical("Pclass", levels=(1, 2, 3), names=("Pclass_1", "Pclass_2", "Pclass_3"), drop_reference=False),
            Categorical(
                "Embarked", levels=("C", "Q", "S"), names=("Embarked_C", "Embarked_Q", "Embarked_S"),
                drop_reference=False,
            ),
        ),
        constant=None,
    )


# Titles of fewer training rows than this are one level, Rare (Kaggle's usual grouping).
RARE_TITLE_ROWS = 10


def kaggle_schema() -> Schema:
    """Features that reach the top of the Titanic board, all in formulas: the lesson's inputs with Age filled by the
    median of the passenger's title, plus title, deck, family size, ticket frequency, fare per person and the
    survival rate of the passenger's woman-or-child group (docs/schema.md says exactly what each counts)."""
    from ._derived import Count, Extract, Join, Levels, Ratio, Sum, TargetRate  # pandas: not for --help's PRESETS
    return Schema(
        target="Survived",
        id_column="PassengerId",
        derived=(
            Extract("Name", "Title", after=", ", before="."),
            Levels("Title", "TitleGroup", map={"Mlle": "Miss", "Ms": "Miss", "Mme": "Mrs"}, min_count=RARE_TITLE_ROWS),
            Extract("Name", "Surname", before=","),
            Extract("Ticket", "TicketGroup", chars=-1),
            Extract("Cabin", "Deck", chars=1),
            Sum(("SibSp", "Parch"), "FamilySize", add=1),
            Count("Ticket", "TicketFrequency"),
            Ratio("Fare", "TicketFrequency", "FarePerPerson"),
            Join(("Surname", "TicketGroup"), "GroupKey", where={"Sex": "female", "TitleGroup": "Master"}),
            TargetRate("GroupKey", "GroupRate", known="GroupKnown"),
        ),
        continuous=(
            Continuous("GroupRate"),
            Continuous("GroupKnown"),
            Continuous("Age", scale="max", name="Age_N", fill="median", fill_by="TitleGroup"),
            Continuous("FarePerPerson", log="log10", name="log_FarePerPerson"),
            Continuous("FamilySize", scale="max", name="FamilySize_N"),
            Continuous("TicketFrequency", scale="max", name="TicketFrequency_N"),
        ),
        categorical=(
            Categorical("Pclass", levels=(1, 2), names=("Pclass_1", "Pclass_2"), reference=3),
            Categorical("Embarked", levels=("S", "C"), names=("Embark_S", "Embark_C"), reference="Q"),
            Categorical("Sex", levels=("male",), names=("Male",), reference="female"),
            Categorical("TitleGroup", prefix="Title"),
            Categorical("Deck"),
            Categorical("FamilySize", levels=(1,), names=("IsAlone",)),
        ),
        constant="Ones",
    )


PRESETS = {"sheet": (sheet_schema, "drop"), "notebook": (notebook_schema, "mode"), "kaggle": (kaggle_schema, "mode")}


def preset_schema(name: str) -> tuple[Schema, str]:
    """A preset's schema and its way with missing values: "sheet" (drop), "notebook" and "kaggle" (fill)."""
    if name not in PRESETS:
        raise DataError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    make, missing = PRESETS[name]
    return make(), missing
