"""The Ray queue display, told in each language (no Ray needed)."""

from core.i18n import translate
from core.training.ray.capacity import describe_wait


def test_the_wait_is_told_in_each_language_with_one_and_many():
    many = describe_wait(2, (4.0, 0.0), 1)
    assert many == "Waiting for a free CPU on the Ray cluster: all 4 CPUs are busy; 2 trainings from this server ahead."
    assert translate("es", many) == ("Esperando una CPU libre en el clúster de Ray: las 4 CPU están ocupadas; "
                                     "2 entrenamientos de este servidor delante.")
    one = describe_wait(1, (1.0, 0.0), 1)
    assert translate("de", one) == ("Warte auf eine freie CPU im Ray-Cluster: seine einzige CPU ist belegt; "
                                    "1 Training dieses Servers ist vor dir.")
    assert translate("es", describe_wait(0, None, 1)) == (
        "Esperando al clúster de Ray: 0 entrenamientos de este servidor delante.")
