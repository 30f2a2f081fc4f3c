<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis version="3.28.0" styleCategories="Symbology">
  <renderer-v2 type="categorizedSymbol" attr="class" symbollevels="0" enableorderby="0" forceraster="0">
    <categories>
      <category symbol="0" value="ambito agricolo strategico ad elevata produttività" label="ambito agricolo strategico ad elevata produttività" render="true"/>
      <category symbol="1" value="ambito agricolo strategico di interazione con il sistema insediativo" label="ambito agricolo strategico di interazione con il sistema insediativo" render="true"/>
      <category symbol="2" value="ambito agricolo strategico di valenza paesistica" label="ambito agricolo strategico di valenza paesistica" render="true"/>
      <category symbol="3" value="" label="other" render="true"/>
    </categories>
    <symbols>
      <symbol type="fill" name="0" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" type="QString" value="163,217,119,128"/>
            <Option name="outline_color" type="QString" value="44,62,80,255"/>
            <Option name="outline_width" type="QString" value="0.26"/>
            <Option name="style" type="QString" value="solid"/>
          </Option>
        </layer>
      </symbol>
      <symbol type="fill" name="1" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" type="QString" value="217,231,122,128"/>
            <Option name="outline_color" type="QString" value="44,62,80,255"/>
            <Option name="outline_width" type="QString" value="0.26"/>
            <Option name="style" type="QString" value="solid"/>
          </Option>
        </layer>
      </symbol>
      <symbol type="fill" name="2" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" type="QString" value="123,196,127,128"/>
            <Option name="outline_color" type="QString" value="44,62,80,255"/>
            <Option name="outline_width" type="QString" value="0.26"/>
            <Option name="style" type="QString" value="solid"/>
          </Option>
        </layer>
      </symbol>
      <symbol type="fill" name="3" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" type="QString" value="127,140,141,128"/>
            <Option name="outline_color" type="QString" value="44,62,80,255"/>
            <Option name="outline_width" type="QString" value="0.26"/>
            <Option name="style" type="QString" value="solid"/>
          </Option>
        </layer>
      </symbol>
    </symbols>
  </renderer-v2>
</qgis>
