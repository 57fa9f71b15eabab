from django import forms


class CustomerSearchForm(forms.Form):
    """How the /customers search box looks: customers.filters.CustomerPageFilterSet builds its
    field on this form."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget = forms.TextInput(
            attrs={"type": "search", "placeholder": "Customer name…", "autocomplete": "off"}
        )
